import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { expectContract } from './contract';

/** The real app, as main.ts builds it, with logs silenced. */
export const testApp = () => createApp({ logger: pino({ level: 'silent' }) });

/** POSTs JSON and checks that the response is one that openapi.yaml documents. */
export async function postJson(app: ReturnType<typeof testApp>, path: string, body: unknown, pathTemplate = path) {
  const res = await request(app).post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
  expectContract(res, 'post', pathTemplate);
  return res;
}
