import type { Db } from '../db/connect';
import { findStructureById, type StructureRow } from './structures.repository';

export type { StructureRow };

/** A structure by id, for other features that refer to one (they never read the structures table themselves). */
export function findStructure(db: Db, id: string): Promise<StructureRow | undefined> {
  return findStructureById(db, id);
}
