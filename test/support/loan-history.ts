/**
 * A loan's whole history, as the API shows it and as the database holds it, with every id replaced
 * by the role it plays (FUND, LOAN:<reference>, LOAN:<reference>/R2...) and every instant masked: two
 * loans with the same story, in two funds, give equal histories. Used to hold an import to what hand
 * entry through the API writes (test/integration/import-commit.test.ts).
 */
import { sql } from 'kysely';
import type { Db } from '../../src/db/connect';
import type { as } from './portfolio';

type Api = ReturnType<typeof as>;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** What differs by construction between two entries of the same story: hashes follow from ids and instants. */
const MASKED_KEYS = new Set(['request_id', 'hash', 'prev_hash']);

/** Ids to the role they play in a fund: the same story in two funds gets the same labels. */
export type Labels = Map<string, string>;

/** Every id and instant in `value` replaced: an id by its label (UNLABELLED-ID if it has none), an instant by INSTANT. */
export function normalise(value: unknown, labels: Labels): unknown {
  if (typeof value === 'string') {
    if (INSTANT.test(value)) return 'INSTANT';
    return value.replace(UUID, (id) => labels.get(id.toLowerCase()) ?? 'UNLABELLED-ID');
  }
  if (value instanceof Date) return 'INSTANT';
  if (Array.isArray(value)) return value.map((item) => normalise(item, labels));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        MASKED_KEYS.has(key) && item !== null ? 'MASKED' : normalise(item, labels),
      ]),
    );
  }
  return value;
}

/** Where two values differ, as "path: hand ≠ import" lines (empty when equal): every difference, not the first. */
export function differences(hand: unknown, imported: unknown, path = ''): string[] {
  if (Object.is(hand, imported)) return [];
  if (Array.isArray(hand) && Array.isArray(imported)) {
    const out: string[] = [];
    if (hand.length !== imported.length)
      out.push(`${path}.length: ${hand.length} ≠ ${imported.length}`);
    for (let i = 0; i < Math.min(hand.length, imported.length); i += 1)
      out.push(...differences(hand[i], imported[i], `${path}[${i}]`));
    return out;
  }
  if (
    hand &&
    imported &&
    typeof hand === 'object' &&
    typeof imported === 'object' &&
    !Array.isArray(hand) &&
    !Array.isArray(imported)
  ) {
    const keys = [...new Set([...Object.keys(hand), ...Object.keys(imported)])].sort();
    return keys.flatMap((key) => {
      const [a, b] = [
        (hand as Record<string, unknown>)[key],
        (imported as Record<string, unknown>)[key],
      ];
      if (!(key in hand)) return [`${path}.${key}: (absent) ≠ ${JSON.stringify(b)}`];
      if (!(key in imported)) return [`${path}.${key}: ${JSON.stringify(a)} ≠ (absent)`];
      return differences(a, b, `${path}.${key}`);
    });
  }
  return [`${path}: ${JSON.stringify(hand)} ≠ ${JSON.stringify(imported)}`];
}

async function rows<T>(db: Db, query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

/**
 * The labels of a fund's ids: the fund, its product and manager's key, its structures (by SIRET or
 * RNA), its loans (`loanRefs`: id → the loan's reference), their repayments (by loan, in the order
 * they were recorded) and journal entries (by loan: event, source, value date, and rank among equals).
 */
export async function fundLabels(
  db: Db,
  fund: { id: string; productId: string; managerKeyId: string },
  loanRefs: Map<string, string>,
): Promise<Labels> {
  const labels: Labels = new Map([
    [fund.id, 'FUND'],
    [fund.productId, 'PRODUCT'],
    [fund.managerKeyId, 'MANAGER'],
  ]);
  for (const s of await rows(
    db,
    sql<{
      id: string;
      siret: string | null;
      rna: string | null;
    }>`SELECT id::text, siret, rna FROM structures WHERE fund_id = ${fund.id}::uuid`,
  )) {
    labels.set(s.id, `STRUCTURE:${s.siret ?? s.rna}`);
  }
  for (const [id, ref] of loanRefs) labels.set(id, `LOAN:${ref}`);
  const ids = [...loanRefs.keys()];
  const repayments = await rows(
    db,
    sql<{ id: string; loan_id: string }>`
    SELECT id::text, loan_id::text FROM repayments WHERE loan_id = ANY(${ids}::uuid[]) ORDER BY seq`,
  );
  const counted = new Map<string, number>();
  for (const r of repayments) {
    const k = (counted.get(r.loan_id) ?? 0) + 1;
    counted.set(r.loan_id, k);
    labels.set(r.id, `${labels.get(r.loan_id)}/R${k}`);
  }
  // Entries after repayments, since their sources name repayments.
  const entries = await rows(
    db,
    sql<{ id: string; loan_id: string; event: string; source: string | null; value_date: string }>`
    SELECT id::text, loan_id::text, event, source, value_date::text FROM journal_entries WHERE loan_id = ANY(${ids}::uuid[]) ORDER BY id`,
  );
  const ranks = new Map<string, number>();
  for (const e of entries) {
    const key = `${labels.get(e.loan_id)}/JE:${e.event}:${normalise(e.source, labels)}:${e.value_date}`;
    const rank = (ranks.get(key) ?? 0) + 1;
    ranks.set(key, rank);
    labels.set(e.id, `${key}#${rank}`);
  }
  return labels;
}

/** GETs a list route page by page (limit 200) and returns all its items. */
async function allItems(api: Api, path: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const res = await api.get(
      `${path}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...(res.body.items as unknown[]));
    cursor = res.body.next_cursor as string | null;
  } while (cursor);
  return items;
}

async function get(api: Api, path: string): Promise<unknown> {
  const res = await api.get(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * One loan's history, raw (ids and instants as they are): what GET /v1/loans/{id}, its schedule, its
 * schedule versions, its repayments and its statement answer; and its rows in loans,
 * schedule_versions, instalments, repayments, allocations, journal_entries and journal_lines, and its
 * audit stream (seq, action, entity, actor, state). Normalise it with the fund's labels.
 */
export async function loanHistory(db: Db, api: Api, loanId: string) {
  const versions = (await get(api, `/v1/loans/${loanId}/schedule/versions`)) as {
    items: { version: number }[];
  };
  const versionSchedules: unknown[] = [];
  for (const { version } of versions.items)
    versionSchedules.push(await get(api, `/v1/loans/${loanId}/schedule/versions/${version}`));
  const entries = await rows(
    db,
    sql<{
      id: string;
      event: string;
      value_date: string;
      source: string | null;
      reverses: string | null;
      lines: unknown;
    }>`
    SELECT e.id::text, e.event, e.value_date::text, e.source, e.reverses::text,
           (SELECT json_agg(json_build_object('line', l.line, 'account', l.account, 'debit', l.debit::text, 'credit', l.credit::text) ORDER BY l.line)
              FROM journal_lines l WHERE l.entry_id = e.id) AS lines
      FROM journal_entries e WHERE e.loan_id = ${loanId}::uuid`,
  );
  return {
    api: {
      loan: await get(api, `/v1/loans/${loanId}`),
      schedule: await get(api, `/v1/loans/${loanId}/schedule`),
      versions,
      versionSchedules,
      repayments: await allItems(api, `/v1/loans/${loanId}/repayments`),
      statement: await get(api, `/v1/loans/${loanId}/statement`),
    },
    db: {
      loan: (
        await rows(
          db,
          sql<Record<string, unknown>>`
        SELECT id::text, fund_id::text, product_id::text, structure_id::text, kind, status, restructured, principal::text, annual_rate_percent::text,
               periodicity, term_periods, deferral_periods, deferral_type, method, day_count, rounding, instalment_multiple::text,
               disbursement_date::text, first_due_date::text, disbursed_on::text, cancelled_on::text, outstanding_principal::text, schedule_version,
               repaid_on::text, written_off_on::text, written_off_at, written_off_seq, write_off_reason, written_off_principal::text,
               current_annual_rate_percent::text, revision, external_reference
          FROM loans WHERE id = ${loanId}::uuid`,
        )
      )[0],
      scheduleVersions: await rows(
        db,
        sql`
        SELECT version, reason, effective_date::text FROM schedule_versions WHERE loan_id = ${loanId}::uuid ORDER BY version`,
      ),
      instalments: await rows(
        db,
        sql`
        SELECT version, number, due_date::text, principal::text, interest::text, total::text, balance_after::text, capitalised_interest::text
          FROM instalments WHERE loan_id = ${loanId}::uuid ORDER BY version, number`,
      ),
      repayments: await rows(
        db,
        sql`
        SELECT r.id::text, r.amount::text, r.value_date::text, r.reference, r.prepayment, r.kind, r.principal_prepaid::text, r.excess::text,
               r.reversed_at, r.reversal_reason,
               (SELECT json_agg(json_build_object('number', a.number, 'fees', a.fees::text, 'late_interest', a.late_interest::text,
                                                  'interest', a.interest::text, 'principal', a.principal::text) ORDER BY a.number)
                  FROM allocations a WHERE a.repayment_id = r.id) AS allocations
          FROM repayments r WHERE r.loan_id = ${loanId}::uuid ORDER BY r.seq`,
      ),
      journal: entries,
      audit: await rows(
        db,
        sql`
        SELECT seq, action, entity_type, entity_id::text, actor_key_id::text, request_id::text, state
          FROM audit_events WHERE stream = ${loanId}::uuid ORDER BY seq`,
      ),
    },
  };
}

/**
 * The history with its ids labelled and instants masked; the journal in a canonical order (by its
 * normalised text), since the same entries written in another order are the same ledger.
 */
export function normalisedHistory(
  history: Awaited<ReturnType<typeof loanHistory>>,
  labels: Labels,
) {
  const normal = normalise(history, labels) as { db: { journal: unknown[] } };
  normal.db.journal.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return normal;
}
