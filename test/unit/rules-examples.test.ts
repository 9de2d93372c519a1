import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { arrearsAsOf, NOTHING, total, type Amounts } from '../../src/domain/allocation';
import { actualDays, type CalendarDate } from '../../src/domain/dates';
import { instalmentStatus } from '../../src/domain/instalment-status';
import {
  ACCOUNTS,
  disbursementLines,
  ledgerChanges,
  oppositeLines,
  type SourcedEntry,
} from '../../src/domain/ledger';
import { cents, formatMoney, parseMoney } from '../../src/domain/money';
import { parseRate } from '../../src/domain/rate';
import { largestRepayment } from '../../src/domain/repayment-limit';
import { buildSchedule, type ScheduleRow } from '../../src/domain/schedule';
import {
  serviceLoan,
  type DesiredPosting,
  type PrepaymentChoice,
  type ServicingEvent,
} from '../../src/domain/servicing';
import {
  parseScheduleTerms,
  type ScheduleTermsBody,
} from '../../src/schedules/schedule-terms.input';
import { originOfTerms } from '../../src/servicing/loan-origin';

/**
 * The worked examples of docs/rules/*.md, checked against the engine cent for cent. In the Markdown,
 * `<!-- example: name -->` is followed by a ```json block (the preview body of a schedule, or a loan
 * and its history), and each `<!-- expect: kind -->` after it by a table of what the engine gives for
 * that example. A table lists the columns it wants, in its own order; schedule and status tables may
 * skip rows with a "…" line. On a mismatch the test prints the engine's table in the doc's own form.
 */

const RULES = path.join(__dirname, '..', '..', 'docs', 'rules');

type Row = Readonly<Record<string, string>>;

interface Table {
  readonly kind: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly line: number;
}
interface Example {
  readonly file: string;
  readonly name: string;
  readonly input: unknown;
  readonly tables: Table[];
}

/** "Balance after" → balance_after, "#" and "instalment" → number. */
const column = (text: string) =>
  text === '#' || text.toLowerCase() === 'instalment'
    ? 'number'
    : text
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_|_$/g, '');
const cell = (text: string) => text.trim().replace(/`/g, '').replace(/\*\*/g, '');
const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map(cell);

function examplesOf(file: string): Example[] {
  const lines = readFileSync(path.join(RULES, file), 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const example = /<!-- example: ([\w-]+) -->/.exec(lines[i]!);
    const expect = /<!-- expect: ([\w-]+) -->/.exec(lines[i]!);
    if (example) {
      const open = lines.findIndex((l, k) => k > i && l.trim() === '```json');
      const close = lines.findIndex((l, k) => k > open && l.trim() === '```');
      if (open < 0 || close < 0)
        throw new Error(`${file}:${i + 1}: example ${example[1]} has no \`\`\`json block`);
      examples.push({
        file,
        name: example[1]!,
        input: JSON.parse(lines.slice(open + 1, close).join('\n')),
        tables: [],
      });
    } else if (expect) {
      const current = examples[examples.length - 1];
      if (!current) throw new Error(`${file}:${i + 1}: expect before any example`);
      let k = i + 1;
      while (lines[k]!.trim() === '') k++;
      const start = k;
      while (k < lines.length && lines[k]!.trim().startsWith('|')) k++;
      const [header, _separator, ...rows] = lines.slice(start, k).map(cellsOf);
      if (!header || rows.length === 0)
        throw new Error(`${file}:${i + 1}: expect ${expect[1]} has no table`);
      current.tables.push({ kind: expect[1]!, header: header.map(column), rows, line: i + 1 });
    }
  }
  return examples;
}

// ---- what the engine says about an example ----

interface LoanInput {
  loan: ScheduleTermsBody;
  history?: HistoryItem[];
  as_of?: string;
}
type HistoryItem =
  | {
      repayment: string;
      value_date: string;
      amount: string;
      prepayment?: PrepaymentChoice;
      reversed?: boolean;
    }
  | {
      restructuring: string;
      effective_date: string;
      type: 'moratorium' | 'extension' | 'rate_change';
      periods?: number;
      deferral_type?: 'partial' | 'total';
      remaining_periods?: number;
      term_periods?: number;
      annual_rate_percent?: string;
      capitalise_arrears?: boolean;
    }
  | { write_off: string; date: string };
interface RemindersInput {
  due_date: string;
  reminder_days_before: number[];
  reminder_days_after: number[];
}

const money = (amount: bigint) => formatMoney(cents(amount));

function eventOf(item: HistoryItem): ServicingEvent {
  if ('repayment' in item) {
    return {
      kind: 'repayment',
      id: item.repayment,
      date: item.value_date as CalendarDate,
      amount: parseMoney(item.amount),
      prepayment: item.prepayment ?? 'reduce_instalment',
    };
  }
  if ('write_off' in item)
    return { kind: 'write_off', id: item.write_off, date: item.date as CalendarDate };
  const base = {
    kind: 'restructuring' as const,
    id: item.restructuring,
    date: item.effective_date as CalendarDate,
    capitaliseArrears: item.capitalise_arrears ?? false,
  };
  if (item.type === 'moratorium')
    return {
      ...base,
      change: {
        type: 'moratorium',
        periods: item.periods!,
        deferralType: item.deferral_type ?? 'partial',
      },
    };
  if (item.type === 'rate_change')
    return {
      ...base,
      change: { type: 'rate_change', annualRate: parseRate(item.annual_rate_percent!) },
    };
  return {
    ...base,
    change:
      item.term_periods !== undefined
        ? { type: 'extension', termPeriods: item.term_periods }
        : { type: 'extension', remainingPeriods: item.remaining_periods! },
  };
}

/** The facts that stand (a reversed repayment does not), replayed in value-date order, then in the order given (recorded). */
const standing = (history: HistoryItem[]) =>
  history
    .filter((item) => !('reversed' in item && item.reversed))
    .map(eventOf)
    .sort((a, b) => a.date.localeCompare(b.date));

function scheduleRows(rows: readonly ScheduleRow[]): Row[] {
  return rows.map((r) => ({
    number: String(r.number),
    due_date: r.dueDate,
    principal: money(r.principal),
    interest: money(r.interest),
    total: money(r.total),
    capitalised_interest: money(r.capitalisedInterest),
    balance_after: money(r.balanceAfter),
  }));
}

function postingRows(postings: readonly SourcedEntry[]): Row[] {
  return postings.flatMap((p) =>
    p.lines.map((l) => ({
      entry: p.source,
      event: p.event,
      value_date: p.valueDate,
      account: l.account,
      debit: money(l.debit),
      credit: money(l.credit),
    })),
  );
}

/**
 * The entries a change to the history adds to the ledger, by the rebooking's own rule (ledgerChanges):
 * each entry the history no longer calls for, or calls for otherwise, reversed by its opposite on its own
 * value date, then the new one posted.
 */
function rebookingRows(before: readonly DesiredPosting[], after: readonly DesiredPosting[]): Row[] {
  const { stale, unposted } = ledgerChanges(before, after);
  return postingRows([
    ...stale.map((p) => ({ ...p, event: 'reversal', lines: oppositeLines(p.lines) })),
    ...unposted,
  ]);
}

interface Computed {
  readonly tables: Readonly<Record<string, Row[]>>;
  readonly figures: Row;
}

function computeSchedule(body: ScheduleTermsBody): Computed {
  const schedule = buildSchedule(parseScheduleTerms(body));
  return {
    tables: { schedule: scheduleRows(schedule.rows) },
    figures: {
      instalment_amount: money(schedule.instalmentAmount),
      total_interest: money(schedule.totalInterest),
      total_capitalised_interest: money(schedule.totalCapitalisedInterest),
      total_payable: money(schedule.totalPayable),
    },
  };
}

function computeLoan(input: LoanInput): Computed {
  const terms = parseScheduleTerms(input.loan);
  const origin = originOfTerms(terms);
  const history = input.history ?? [];
  const result = serviceLoan(origin, standing(history));
  const asOf = (input.as_of ?? '2999-12-31') as CalendarDate;
  // Statuses and arrears are those of the whole history: an example's as_of comes after every fact of it.
  if (standing(history).some((e) => e.date > asOf))
    throw new Error(`as_of ${asOf} is before a fact of the history`);
  const disbursement: SourcedEntry = {
    source: 'disbursement',
    event: 'disbursement',
    valueDate: origin.disbursedOn,
    lines: disbursementLines(origin.principal),
  };
  const entries = [disbursement, ...(result.postings as readonly SourcedEntry[])]
    .map((p, order) => ({ p, order }))
    .sort((a, b) => a.p.valueDate.localeCompare(b.p.valueDate) || a.order - b.order)
    .map((x) => x.p);
  const lines = entries.filter((p) => p.valueDate <= asOf).flatMap((p) => p.lines);

  const states = result.rows.map((row, i) => ({
    number: row.number,
    dueDate: row.dueDate,
    due: { ...NOTHING, interest: row.interest, principal: row.principal } as Amounts,
    paid: result.paid[i]!,
  }));
  const arrears = arrearsAsOf(states, asOf);
  const repayments = standing(history).filter((e) => e.kind === 'repayment');
  // The history before the change the `rebooking` table shows: the reversals, if any; otherwise the last fact recorded.
  const reversing = history.some((item) => 'reversed' in item && item.reversed);
  const earlier = reversing
    ? history.map((item) => ('reversed' in item ? { ...item, reversed: false } : item))
    : history.slice(0, -1);
  const previous = serviceLoan(origin, standing(earlier));
  // What the current schedule asked for when the last fact was recorded: the largest repayment it could be.
  const askedBefore = serviceLoan(origin, standing(history.slice(0, -1))).rows.reduce(
    (s, r) => s + r.total,
    0n,
  );

  return {
    tables: {
      schedule: scheduleRows(result.rows),
      statuses: states.map((s) => ({
        number: String(s.number),
        due_date: s.dueDate,
        total: money(total(s.due)),
        paid: money(total(s.paid)),
        unpaid: money(total(s.due) - total(s.paid)),
        status: instalmentStatus(s.dueDate, total(s.due), total(s.paid), asOf),
      })),
      allocations: repayments.flatMap((e) =>
        result.outcomes.get(e.id)!.allocations.map((a) => ({
          repayment: e.id,
          number: String(a.number),
          fees: money(a.amounts.fees),
          late_interest: money(a.amounts.late_interest),
          interest: money(a.amounts.interest),
          principal: money(a.amounts.principal),
          total: money(total(a.amounts)),
        })),
      ),
      outcomes: repayments.map((e) => {
        const o = result.outcomes.get(e.id)!;
        return {
          repayment: e.id,
          value_date: e.date,
          amount: money(e.amount),
          allocated: money(o.allocations.reduce((s, a) => s + total(a.amounts), 0n)),
          principal_prepaid: money(o.principalPrepaid),
          excess: money(o.excess),
          recovered: money(o.recovered),
        };
      }),
      postings: postingRows(entries),
      rebooking: rebookingRows(previous.postings, result.postings),
      trial_balance: ACCOUNTS.map((account) => {
        const mine = lines.filter((l) => l.account === account);
        const debits = mine.reduce((s, l) => s + l.debit, 0n);
        const credits = mine.reduce((s, l) => s + l.credit, 0n);
        return {
          account,
          debits: money(debits),
          credits: money(credits),
          balance: money(debits - credits),
        };
      }),
    },
    figures: {
      status: result.status,
      outstanding_principal: money(
        lines
          .filter((l) => l.account === 'loans_receivable')
          .reduce((s, l) => s + l.debit - l.credit, 0n),
      ),
      written_off_principal: money(result.writtenOffPrincipal),
      overdue_instalments: String(arrears.overdueInstalments),
      overdue_amount: money(total(arrears.overdue)),
      days_past_due: String(arrears.daysPastDue),
      largest_repayment: money(largestRepayment(cents(askedBefore))),
    },
  };
}

function computeReminders(input: RemindersInput): Computed {
  const due = input.due_date as CalendarDate;
  const shifted = (days: number) => {
    const date = new Date(`${due}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10) as CalendarDate;
  };
  const rows = [
    ...input.reminder_days_before.map((offset) => ({
      kind: 'before_due',
      offset_days: String(offset),
      send_on: shifted(-offset),
    })),
    ...input.reminder_days_after.map((offset) => ({
      kind: 'after_due',
      offset_days: String(offset),
      send_on: shifted(offset),
    })),
  ].sort((a, b) => a.send_on.localeCompare(b.send_on));
  // The send date is exactly the offset away from the due date, in calendar days.
  for (const row of rows)
    expect(Math.abs(actualDays(row.send_on, due))).toBe(Number(row.offset_days));
  return { tables: { reminders: rows }, figures: {} };
}

function compute(input: unknown): Computed {
  if (typeof input === 'object' && input !== null && 'loan' in input)
    return computeLoan(input as LoanInput);
  if (typeof input === 'object' && input !== null && 'due_date' in input)
    return computeReminders(input as RemindersInput);
  return computeSchedule(input as ScheduleTermsBody);
}

// ---- the doc's table, as the engine would write it ----

const ELIDED = (cells: readonly string[]) =>
  cells.every((c) => c === '…' || c === '...' || c === '');
/** Ledger tables leave an entry's repeated name, type and date blank, and show no 0.00 on the other side. */
const BLANK_REPEATS = ['entry', 'event', 'value_date'];

function engineTable(table: Table, computed: Computed): string[][] {
  if (table.kind === 'figures') {
    return table.rows.map(([name]) => {
      const value = computed.figures[column(name!)];
      if (value === undefined) throw new Error(`line ${table.line}: no figure ${name}`);
      return [name!, value];
    });
  }
  const rows = computed.tables[table.kind];
  if (!rows) throw new Error(`line ${table.line}: no table of kind ${table.kind} for this example`);
  for (const name of table.header)
    if (rows.length > 0 && rows[0]![name] === undefined)
      throw new Error(`line ${table.line}: no column ${name} in ${table.kind}`);
  const numbered =
    table.header[0] === 'number' && (table.kind === 'schedule' || table.kind === 'statuses');
  if (numbered) {
    // Rows are found by number; "…" lines stand for the rows left out. The last row must be shown.
    const byNumber = new Map(rows.map((r) => [r.number, r]));
    const shown = table.rows.map((cells) =>
      ELIDED(cells)
        ? [...cells]
        : table.header.map((h) => byNumber.get(cells[0]!)?.[h] ?? '(no such row)'),
    );
    const last = [...table.rows].reverse().find((cells) => !ELIDED(cells));
    if (table.kind === 'schedule' && last?.[0] !== String(rows.length))
      shown.push([`(the schedule has ${rows.length} rows)`]);
    return shown;
  }
  const ledger = table.header.includes('account') && table.header.includes('entry');
  let previous: Row | undefined;
  return rows.map((row) => {
    const cells = table.header.map((h) => {
      if (
        ledger &&
        BLANK_REPEATS.includes(h) &&
        previous?.entry === row.entry &&
        previous?.event === row.event
      )
        return '';
      if (ledger && (h === 'debit' || h === 'credit') && row[h] === '0.00') return '';
      return row[h]!;
    });
    previous = row;
    return cells;
  });
}

const render = (header: readonly string[], rows: readonly (readonly string[])[]) =>
  [header, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

const files = readdirSync(RULES)
  .filter((f) => f.endsWith('.md'))
  .sort();
const examples = files.flatMap(examplesOf);

describe('the worked examples of docs/rules are what the engine computes', () => {
  it('schedules.md and repayments.md have examples, each with at least one table to check', () => {
    for (const file of ['schedules.md', 'repayments.md'])
      expect(examples.filter((e) => e.file === file).length).toBeGreaterThanOrEqual(3);
    expect(examples.filter((e) => e.tables.length === 0).map((e) => `${e.file} ${e.name}`)).toEqual(
      [],
    );
    expect(new Set(examples.map((e) => e.name)).size).toBe(examples.length);
  });

  describe.each(examples.map((e) => [`${e.file} ${e.name}`, e] as const))(
    '%s',
    (_label, example) => {
      it.each(example.tables.map((t) => [`${t.kind} (line ${t.line})`, t] as const))(
        '%s',
        (_kind, table) => {
          const computed = compute(example.input);
          expect(render(table.header, engineTable(table, computed))).toBe(
            render(table.header, table.rows),
          );
        },
      );
    },
  );
});
