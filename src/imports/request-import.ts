import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { auditEvent } from '../audit/record-audit-event';
import type { Db } from '../db/connect';
import { executeWrites } from '../db/writes';
import type { CalendarDate } from '../domain/dates';
import { DomainError, type FieldError } from '../domain/errors';
import type { RequestContext } from '../http/auth';
import {
  transactOnce,
  type IdempotentRequest,
  type StoredResponse,
} from '../idempotency/run-idempotently';
import { enqueue } from '../outbox/outbox';
import { checkImport, type ImportBody } from './dry-run-import';
import { IMPORT_KINDS } from './import-columns';
import type { ImportReport } from './import-report';
import { importView } from './import.view';
import { COMMIT_IMPORT, findImportById } from './imports.repository';

/** Where an import row error is, as a problem's field: `loans[3].principal`, `loans[3]`, `loans`. */
const fieldOf = (e: ImportReport['errors'][number]) =>
  `${e.file}${e.row === null ? '' : `[${e.row}]`}${e.column === null ? '' : `.${e.column}`}`;

/**
 * POST /v1/imports with mode=commit. The dry run first: with any error, a 422 carrying its report
 * and nothing written; with nothing to create (the same files imported again), a 200 saying so.
 * Otherwise the import, its files, its job and its audit event land together, and a worker applies
 * it in one transaction (202: the caller polls its Location).
 */
export async function requestImport(
  db: Db,
  context: RequestContext,
  body: ImportBody,
  today: CalendarDate,
  idempotency?: IdempotentRequest,
): Promise<StoredResponse> {
  const { report } = await checkImport(db, context, body, today);
  const committed = { ...report, mode: 'commit' as const };
  if (report.errors.length > 0) {
    const count = report.errors.length + report.errors_not_shown;
    throw new DomainError(
      'rule_violation',
      `The import has errors: nothing was written (${count} error${count === 1 ? '' : 's'}, listed in report.errors).`,
      report.errors.map((e): FieldError => ({ field: fieldOf(e), message: e.message })),
      { report: committed },
    );
  }
  const tallies = Object.values(report.files);
  const rowsTotal = tallies.reduce((sum, t) => sum + t.rows_to_create, 0);
  if (rowsTotal === 0) return { status: 200, body: { ...committed, no_op: true }, replayed: false };

  const files = Object.fromEntries(
    IMPORT_KINDS.filter((kind) => body[kind] !== undefined).map((kind) => [
      kind,
      { sha256: createHash('sha256').update(body[kind]!).digest('hex'), ...report.files[kind] },
    ]),
  );
  const id = uuidv7();
  return transactOnce(
    db,
    idempotency,
    async (trx) => {
      await executeWrites(trx, [
        {
          query: sql`INSERT INTO imports (id, fund_id, requested_by, request_id, files, structures_csv, loans_csv, repayments_csv, rows_total)
          VALUES (${id}::uuid, ${report.fund_id}::uuid, ${context.actor.keyId}, ${context.requestId || null}, ${JSON.stringify(files)}::jsonb,
            ${body.structures ?? null}, ${body.loans ?? null}, ${body.repayments ?? null}, ${rowsTotal}::integer)`,
        },
        enqueue({
          queue: 'imports',
          name: COMMIT_IMPORT,
          jobId: `import-${id}`,
          payload: { import_id: id, request_id: context.requestId || null },
        }),
        ...auditEvent(context, {
          fundId: report.fund_id,
          action: 'import.requested',
          entityType: 'import',
          entityId: id,
          state: { id, fund_id: report.fund_id, files, rows_total: rowsTotal },
        }),
      ]);
      return (await findImportById(trx, id))!;
    },
    (row) => ({ status: 202, body: importView(row) }),
  );
}
