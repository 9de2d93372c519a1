import { sql, type Transaction } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { recordNewChains, recordOnFundChain } from '../audit/record-audit-chains';
import { insertRows } from '../db/bulk-insert';
import { poolStats, type Db } from '../db/connect';
import { isDatabaseUnavailable } from '../db/errors';
import type { Database } from '../db/schema';
import type { CalendarDate } from '../domain/dates';
import { parseMoney } from '../domain/money';
import type { PrepaymentChoice } from '../domain/servicing';
import { ADMIN, type RequestContext } from '../http/auth';
import { insertLoans, updateReplayedLoans } from '../loans/find-visible-loan';
import { instalmentColumns } from '../loans/instalments';
import { termsColumns } from '../loans/loan-terms';
import { structureColumns, type StructureFields } from '../structures/structure-rules';
import { structureView } from '../structures/structure.view';
import { insertStructures } from '../structures/find-structure';
import { loanAidColumns } from '../state-aid/loan-aid';
import { postJournalEntries } from '../ledger/post-journal-entry';
import { allocationColumns, repaymentColumns } from '../servicing/servicing-rows';
import { structureKey } from './check-structures';
import { checkImport, type ImportBody, type ImportPlan } from './dry-run-import';
import {
  failImport,
  finishImport,
  setImportProgress,
  startImport,
  type ImportRow,
} from './imports.repository';
import { replayLoan, type ImportedRepayment, type ReplayedLoan } from './replay-loan';

export type ImportOutcome = 'done' | 'done already' | 'failed';

/** Loans replayed and written per batch: their rows stay in memory until written. */
const LOANS_PER_BATCH = 500;

/**
 * One attempt at an import (a job of the imports queue, delivered at least once). In ONE transaction,
 * under the fund's import lock: the files are checked again against the fund as it is now (a second
 * delivery, or a change made since the request, is caught here), then every structure and loan is
 * created and every loan's history replayed as hand entry would (replayLoan), written in bulk, a few
 * hundred loans at a time. The import is `done` in that same transaction; errors in the files leave it
 * `failed` with them and nothing written. Progress (rows_done) goes to the import's row from another
 * connection as batches are written; on PGlite (one connection) it shows at the end.
 */
export async function commitImport(
  db: Db,
  importId: string,
  today: CalendarDate,
  isLastAttempt = true,
): Promise<ImportOutcome> {
  const row = await startImport(db, importId);
  if (!row) return 'done already';
  try {
    const report = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('import:' || ${row.fund_id}))`.execute(trx);
      const checked = await checkImport(
        trx,
        { actor: ADMIN, requestId: '' },
        bodyOf(row),
        today,
        true,
      );
      if (checked.report.errors.length > 0) return checked.report;
      const progress =
        poolStats(db) === undefined
          ? async () => undefined
          : (done: number) => setImportProgress(db, row.id, done);
      const created = await writeImport(trx, row, checked.plan, today, progress);
      await finishImport(trx, row.id, created, row.rows_total);
      return undefined;
    });
    if (!report) return 'done';
    await failImport(db, row.id, report.errors, report.errors_not_shown, null);
    return 'failed';
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error; // not the import's failure: its job is tried again later
    const message = (error as { message?: string } | undefined)?.message ?? String(error);
    if (!isLastAttempt) throw error;
    await failImport(db, row.id, [], 0, message);
    return 'failed';
  }
}

const bodyOf = (row: ImportRow): ImportBody => ({
  fund_id: row.fund_id,
  ...(row.structures_csv !== null ? { structures: row.structures_csv } : {}),
  ...(row.loans_csv !== null ? { loans: row.loans_csv } : {}),
  ...(row.repayments_csv !== null ? { repayments: row.repayments_csv } : {}),
});

/** The import's changes are made by its requester, under its request id, as through the API. */
const contextOf = (row: ImportRow): RequestContext => ({
  actor: { ...ADMIN, keyId: row.requested_by },
  requestId: row.request_id ?? '',
});

async function writeImport(
  trx: Transaction<Database>,
  row: ImportRow,
  plan: ImportPlan,
  today: CalendarDate,
  progress: (done: number) => Promise<void>,
): Promise<Record<string, number>> {
  const context = contextOf(row);
  const structures = await insertStructures(
    trx,
    plan.structures.map(({ fields: f }) => ({
      id: uuidv7(),
      fund_id: row.fund_id,
      // Checked by the dry run against the API's own schema for structures.
      ...structureColumns(f as unknown as StructureFields),
    })),
  );
  const structureIds = new Map(plan.structureIds);
  for (const s of structures) structureIds.set(structureKey(s.siret, s.rna)!, s.id);
  let done = structures.length;
  await progress(done);

  let repayments = 0;
  for (let start = 0; start < plan.loans.length; start += LOANS_PER_BATCH) {
    const batch = plan.loans.slice(start, start + LOANS_PER_BATCH);
    const pending = await insertLoans(
      trx,
      batch.map(({ fields: f, terms }) => {
        const product = plan.products.get(f.product_id as string)!;
        return {
          id: uuidv7(),
          fund_id: row.fund_id,
          product_id: product.id,
          structure_id: structureIds.get(structureKey(f.structure_siret, f.structure_rna)!)!,
          kind: product.kind,
          ...termsColumns(terms),
          external_reference: f.external_reference as string, // required by the dry run
          // The state-aid columns POST /v1/loans gives a loan that names none: its product's classes, de minimis.
          ...loanAidColumns({}, product).columns,
        };
      }),
    );
    const replayed: ReplayedLoan[] = [];
    for (const loan of pending) {
      const lines = (plan.repayments.get(loan.external_reference!) ?? []).map(
        ({ fields: f }): ImportedRepayment => ({
          amount: parseMoney(f.amount as string),
          value_date: f.value_date as CalendarDate,
          reference: (f.reference as string | undefined) ?? null,
          prepayment: (f.prepayment as PrepaymentChoice | undefined) ?? 'reduce_instalment',
        }),
      );
      replayed.push(await replayLoan(trx, loan, lines, today));
      repayments += lines.length;
    }
    await writeLoans(trx, context, replayed);
    done += batch.length + replayed.reduce((sum, loan) => sum + loan.repayments.length, 0);
    await progress(done);
  }

  // The fund's own chain, last: its head is locked only from here to the commit.
  await recordOnFundChain(trx, context, row.fund_id, [
    ...structures.map((s) => ({
      action: 'structure.created',
      entity_type: 'structure',
      entity_id: s.id,
      state: structureView(s),
    })),
    {
      action: 'import.completed',
      entity_type: 'import',
      entity_id: row.id,
      state: {
        id: row.id,
        created: { structures: structures.length, loans: plan.loans.length, repayments },
      },
    },
  ]);
  return { structures: structures.length, loans: plan.loans.length, repayments };
}

/** A batch of replayed loans, table by table, each table in a few statements. */
async function writeLoans(
  trx: Transaction<Database>,
  context: RequestContext,
  loans: readonly ReplayedLoan[],
): Promise<void> {
  const all = <T>(pick: (loan: ReplayedLoan) => readonly T[]) => loans.flatMap(pick);
  await insertRows(
    trx,
    'schedule_versions',
    all((l) => l.versions),
  );
  await insertRows(trx, 'instalments', all((l) => l.instalments).map(instalmentColumns));
  await insertRows(trx, 'repayments', all((l) => l.repayments).map(repaymentColumns)); // in order: seq numbers them so
  await insertRows(trx, 'allocations', all((l) => l.allocations).map(allocationColumns));
  await insertRows(
    trx,
    'aid_grants',
    all((l) => l.aidGrants),
  ); // state aid (docs/state-aid.md)
  await postJournalEntries(
    trx,
    all((l) => l.journal),
  );
  await recordNewChains(
    trx,
    context,
    loans.map((l) => ({
      fundId: l.loan.fund_id,
      stream: l.loan.id,
      changes: l.changes.map((c) => ({
        action: c.action,
        entity_type: c.entityType,
        entity_id: c.entityId,
        state: c.state,
      })),
    })),
  );
  // The loans as their last step left them (what each step's loan write would have made of the row).
  await updateReplayedLoans(
    trx,
    loans.map((l) => l.loan),
  );
}
