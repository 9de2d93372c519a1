import { closeTestDb } from '../support/db';

afterAll(closeTestDb);
