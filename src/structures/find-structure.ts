import type { Db } from '../db/connect';
import { findStructureById, insertStructures, type Structure } from './structures.repository';

export type { Structure };
/** The CSV import's new structures, in one statement (the import owns the transaction and the audit). */
export { insertStructures };

/** A structure by id, for other features that refer to one (they never read the structures table themselves). */
export function findStructure(db: Db, id: string): Promise<Structure | undefined> {
  return findStructureById(db, id);
}
