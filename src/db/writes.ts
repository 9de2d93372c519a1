import { sql, type OperationNodeSource, type Transaction } from 'kysely';
import type { Database } from './schema';

/**
 * One INSERT, UPDATE or DELETE to send with others. `name` lets a later write of the same batch read
 * what this one RETURNS (WITH name AS (…)).
 */
export interface Write {
  readonly name?: string;
  /** A raw `sql` statement or a Kysely builder; it is compiled into the batch, never run alone. */
  readonly query: OperationNodeSource;
}

/**
 * Sends a use case's writes as ONE statement (data-modifying CTEs), so that a repayment costs one
 * round trip to store, not ten. The writes run on one snapshot: none sees another's rows, except
 * through a name; foreign keys and constraint triggers still check at the end (or at commit).
 */
export async function executeWrites(
  trx: Transaction<Database>,
  writes: readonly Write[],
): Promise<void> {
  if (writes.length === 0) return;
  if (writes.length === 1) {
    await sql`${writes[0]!.query}`.execute(trx);
    return;
  }
  const ctes = writes.map(
    (write, index) => sql`${sql.ref(write.name ?? `w${index}`)} AS (${write.query})`,
  );
  await sql`WITH ${sql.join(ctes)} SELECT 1`.execute(trx);
}
