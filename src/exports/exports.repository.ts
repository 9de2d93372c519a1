import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/connect';
import type { ExportsTable } from '../db/schema';
import type { Write } from '../db/writes';
import { parseDate, type CalendarDate } from '../domain/dates';
import { oneOf } from '../domain/one-of';
import { JOB_STATUSES, requeueStalled, type JobStatus } from '../outbox/requeue-stalled';

/** An export as stored: its date a CalendarDate, its status checked. */
export type Export = Omit<Selectable<ExportsTable>, 'as_of' | 'status'> & {
  readonly as_of: CalendarDate;
  readonly status: JobStatus;
};

function rowToExport(row: Selectable<ExportsTable>): Export {
  return {
    ...row,
    as_of: parseDate(row.as_of),
    status: oneOf(JOB_STATUSES, row.status, 'exports.status'),
  };
}

/** The job that builds an export: `export-<id>` on the exports queue. */
export const BUILD_EXPORT = 'build';
export const exportJobId = (exportId: string) => `export-${exportId}`;

export function insertExportWrite(row: {
  id: string;
  fundId: string;
  asOf: CalendarDate;
  requestedBy: string;
}): Write {
  return {
    query: sql`INSERT INTO exports (id, fund_id, as_of, requested_by) VALUES (${row.id}::uuid, ${row.fundId}::uuid, ${row.asOf}::date, ${row.requestedBy})`,
  };
}

export async function findExportById(db: Db, id: string): Promise<Export | undefined> {
  const row = await db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToExport(row);
}

/** One page (plus one row) of a fund's exports, oldest first. */
export async function findExports(
  db: Db,
  filter: { fundId?: string; status?: JobStatus; afterSeq?: string; limit: number },
): Promise<Export[]> {
  let query = db.selectFrom('exports').selectAll().orderBy('seq').limit(filter.limit);
  if (filter.fundId) query = query.where('fund_id', '=', filter.fundId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.afterSeq) query = query.where('seq', '>', filter.afterSeq);
  return (await query.execute()).map(rowToExport);
}

/** Claims an export for an attempt: `running`, counted, and the bytes of a failed attempt gone. Undefined when done (or unknown). */
export async function startExport(db: Db, id: string): Promise<Export | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('exports')
      .set((eb) => ({
        status: 'running',
        progress: 0,
        attempts: eb('attempts', '+', 1),
        started_at: sql<Date>`now()`,
        error: null,
      }))
      .where('id', '=', id)
      .where('status', '<>', 'done')
      .returningAll()
      .executeTakeFirst();
    if (row) await trx.deleteFrom('export_chunks').where('export_id', '=', id).execute();
    return row && rowToExport(row);
  });
}

export async function setExportProgress(db: Db, id: string, progress: number): Promise<void> {
  await db
    .updateTable('exports')
    .set({ progress })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

export async function insertChunk(
  db: Db,
  exportId: string,
  seq: number,
  bytes: Buffer,
): Promise<void> {
  await db.insertInto('export_chunks').values({ export_id: exportId, seq, bytes }).execute();
}

/** Done, with its size and checksum, once (false if it was done already). */
export async function finishExport(
  db: Db,
  id: string,
  done: { size: number; sha256: string },
): Promise<boolean> {
  const row = await db
    .updateTable('exports')
    .set({
      status: 'done',
      progress: 100,
      size: String(done.size),
      sha256: done.sha256,
      finished_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A failed attempt: its bytes deleted; `queued` again while BullMQ retries, `failed` after the last. */
export async function failExport(db: Db, id: string, error: string, last: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('exports')
      .set({ status: last ? 'failed' : 'queued', error, progress: 0 })
      .where('id', '=', id)
      .where('status', '<>', 'done')
      .returning('id')
      .executeTakeFirst();
    if (row) await trx.deleteFrom('export_chunks').where('export_id', '=', id).execute();
  });
}

/** The chunks' sequence numbers, in order (each read on its own when served: memory stays flat). */
export async function chunkSeqs(db: Db, exportId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('export_chunks')
    .select('seq')
    .where('export_id', '=', exportId)
    .orderBy('seq')
    .execute();
  return rows.map((row) => row.seq);
}

export async function chunkBytes(db: Db, exportId: string, seq: number): Promise<Buffer> {
  const row = await db
    .selectFrom('export_chunks')
    .select('bytes')
    .where('export_id', '=', exportId)
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.bytes);
}

/** Exports no worker finished: a new job an hour, or given up, as for reports (src/outbox/requeue-stalled.ts). */
export function requeueStalledExports(db: Db): Promise<{ queued: number; failed: number }> {
  return requeueStalled(db, { table: 'exports', jobName: BUILD_EXPORT, prefix: 'export' });
}
