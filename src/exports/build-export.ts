import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { verifyAuditChain } from '../audit/verify-audit-chain';
import { poolStats, type Db } from '../db/connect';
import { isDatabaseUnavailable } from '../db/errors';
import { readAfterPrimary } from '../db/read-replica';
import { exportFiles } from './export-files';
import {
  failExport,
  finishExport,
  insertChunk,
  setExportProgress,
  startExport,
} from './exports.repository';
import { writeBundle, type FileSummary } from './write-bundle';

export type ExportOutcome = 'done' | 'done already' | 'failed';

/** The package's name and version, from the package.json above this file (src/ or dist/src/). */
function generator(): { name: string; version: string } {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as {
        name: string;
        version: string;
      };
      return { name, version };
    }
  }
  return { name: 'unknown', version: 'unknown' };
}
const GENERATOR = generator(); // read once: package.json does not change under a running process

/**
 * One attempt at an export (a job of the exports queue, delivered at least once). The audit
 * anchor first, as GET /v1/audit-events/verify computes it, as of the end of the as-of day (Paris
 * time) or the latest instant every event is committed by, if earlier; then every file from ONE
 * snapshot (REPEATABLE READ), on `reads` once it has replayed what the primary held when the
 * attempt began (as the reports do), streamed into the ZIP and the ZIP into export_chunks as it
 * comes. On PGlite — one connection, which the snapshot's transaction holds — the chunks are
 * written by that transaction itself (so it is not READ ONLY there) and the progress shows at the
 * end, and every file is written by JS; elsewhere the snapshot is READ ONLY, the plain tables are
 * written by COPY on its connection, and the chunks and the progress go to the primary as they come. A failed attempt deletes its chunks and is retried; the last leaves it `failed`.
 */
export async function buildExport(
  db: Db,
  exportId: string,
  isLastAttempt: boolean,
  reads: Db = db,
): Promise<ExportOutcome> {
  const row = await startExport(db, exportId);
  if (!row) return 'done already';
  try {
    const asOf = row.as_of;
    const made = new Date();
    const {
      rows: [day],
    } = await sql<{
      end: Date;
    }>`SELECT ((${asOf}::date + 1)::timestamp AT TIME ZONE 'Europe/Paris') - interval '1 millisecond' AS end`.execute(
      db,
    );
    const { anchor } = await verifyAuditChain(db, row.fund_id, day!.end);
    const files = exportFiles(row.fund_id, asOf, new Date(anchor.as_of));
    const manifest = (summaries: readonly FileSummary[]) => ({
      format: 'solidarity-loans-export/1',
      generator: GENERATOR,
      fund_id: row.fund_id,
      as_of: asOf,
      made_at: made.toISOString(),
      files: summaries,
      audit_anchor: anchor,
    });
    const oneConnection = poolStats(db) === undefined;
    const build = (source: Db) => {
      const inSnapshot = oneConnection && source === db;
      const snapshot = source.transaction().setIsolationLevel('repeatable read');
      return (inSnapshot ? snapshot : snapshot.setAccessMode('read only')).execute((trx) => {
        const writes = inSnapshot ? trx : db;
        return writeBundle({
          trx,
          copy: !oneConnection,
          files,
          made,
          manifest,
          store: (seq, bytes) => insertChunk(writes, exportId, seq, bytes),
          fileDone: (done, of) =>
            setExportProgress(writes, exportId, Math.floor((100 * done) / of)),
        });
      });
    };
    const { result } = await readAfterPrimary(db, reads, build);
    return (await finishExport(db, exportId, result)) ? 'done' : 'done already';
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error; // not the export's failure: its job is tried again later
    await failExport(
      db,
      exportId,
      (error as { message?: string } | undefined)?.message ?? String(error),
      isLastAttempt,
    );
    if (isLastAttempt) return 'failed';
    throw error;
  }
}
