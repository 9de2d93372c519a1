/**
 * The CSV files bench/import.ts imports: `loans` loans of a fund's one product, each with its first
 * 12 monthly repayments, spread as bench/portfolio.ts spreads its structures (its places, NAF codes
 * and legal forms). Seeded: the same files on every run. The repayment amounts come from the
 * engine, as the dry run computes them: the schedule's instalment for most; about 10 % of the loans
 * pay a few thousand euros more once (a prepayment, default reduce_instalment: the instalments that
 * follow are the rescheduled ones, read from serviceLoan); about 10 % pay one to three instalments
 * 3 to 25 days late. Half the loans may come in French spreadsheet conventions (fileText).
 */
import { COMPONENTS, type Amounts } from '../src/domain/allocation';
import type { CalendarDate } from '../src/domain/dates';
import { cents, formatMoney, type Money } from '../src/domain/money';
import { serviceLoan, type ServicedRow, type ServicingEvent } from '../src/domain/servicing';
import { withLuhnCheckDigit } from '../src/domain/structure-identifiers';
import { originOfTerms } from '../src/servicing/loan-origin';
import { termsFromBody } from '../src/schedules/schedule-terms.input';
import { addDays, LEGAL_FORMS, NAF_CODES, PLACES, random } from './portfolio';

export const REPAYMENTS_PER_LOAN = 12;

export type Conventions = 'en' | 'fr';

/** The files of one request: every loan's structure and repayments travel with it, so each batch stands alone. */
export interface ImportBatch {
  readonly conventions: Conventions;
  readonly structures: string;
  readonly loans: string;
  readonly repayments: string;
  readonly counts: { structures: number; loans: number; repayments: number };
}

type Kind = 'structures' | 'loans' | 'repayments';

/** Each file's header in both conventions, and which of its columns are decimals and dates (written differently in French). */
const FILES: Record<Kind, { en: string; fr: string; decimals: number[]; dates: number[] }> = {
  structures: {
    en: 'legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email',
    fr: 'Raison sociale;SIRET;Forme juridique;Code NAF;Code commune;Code département;Code région;ETP;Email',
    decimals: [7],
    dates: [],
  },
  loans: {
    en: 'external_reference,structure_siret,product_id,principal,annual_rate_percent,periodicity,term_periods,method,disbursement_date',
    fr: 'Référence prêt;SIRET;Produit;Capital;Taux;Périodicité;Durée;Méthode;Date décaissement',
    decimals: [3, 4],
    dates: [8],
  },
  repayments: {
    en: 'loan_external_reference,value_date,amount,reference,prepayment',
    fr: 'Référence prêt;Date valeur;Montant;Libellé;Remboursement anticipé',
    decimals: [2],
    dates: [1],
  },
};

/**
 * A file's text: English conventions (`,`, decimal point, ISO dates, LF), or French ones as a
 * spreadsheet saves them (BOM, `;`, decimal comma, a space between thousands, day-first dates, CRLF,
 * French headers).
 */
function fileText(kind: Kind, rows: readonly string[][], conventions: Conventions): string {
  const { en, fr, decimals, dates } = FILES[kind];
  if (conventions === 'en') return [en, ...rows.map((row) => row.join(','))].join('\n');
  const french = (row: string[]) =>
    row
      .map((cell, i) => {
        if (decimals.includes(i)) {
          const [units, fraction] = cell.split('.');
          return `${units!.replace(/\B(?=(\d{3})+$)/g, ' ')}${fraction === undefined ? '' : `,${fraction}`}`;
        }
        return dates.includes(i)
          ? `${cell.slice(8, 10)}/${cell.slice(5, 7)}/${cell.slice(0, 4)}`
          : cell;
      })
      .join(';');
  return `\uFEFF${[fr, ...rows.map(french)].join('\r\n')}`;
}

const unpaid = (row: ServicedRow, paid: Amounts): Money =>
  cents(row.total - COMPONENTS.reduce((sum, c) => sum + paid[c], 0n));

/**
 * One loan's 12 repayment lines. A loan that prepays is replayed through the servicing core after
 * each line, so that each later line pays what the engine says is due next (the rescheduled
 * instalment); the others pay their schedule version 1.
 */
function repaymentLines(
  reference: string,
  terms: ReturnType<typeof termsFromBody>,
  draw: () => number,
): string[][] {
  const origin = originOfTerms(terms);
  const prepaysAt = draw() < 0.1 ? 2 + Math.floor(draw() * 8) : -1;
  const late = new Set(
    draw() < 0.1
      ? Array.from({ length: 1 + Math.floor(draw() * 3) }, () =>
          Math.floor(draw() * REPAYMENTS_PER_LOAN),
        )
      : [],
  );
  const events: ServicingEvent[] = [];
  let standing: { rows: readonly ServicedRow[]; paid: readonly Amounts[] } | undefined;
  const lines: string[][] = [];
  for (let k = 0; k < REPAYMENTS_PER_LOAN; k++) {
    const due = origin.rows[k]!.dueDate;
    let amount = origin.rows[k]!.total;
    if (standing) {
      const next = standing.rows.findIndex((row, i) => unpaid(row, standing!.paid[i]!) > 0n);
      amount = unpaid(standing.rows[next]!, standing.paid[next]!);
    }
    if (k === prepaysAt)
      amount = cents(
        amount + origin.rows[k + 1]!.total + BigInt(1000 + Math.floor(draw() * 40) * 100) * 100n,
      );
    const valueDate = late.has(k) ? addDays(due, 3 + Math.floor(draw() * 23)) : due;
    lines.push([reference, valueDate, formatMoney(amount), `VIR ${valueDate.slice(0, 7)}`, '']);
    if (prepaysAt < 0) continue;
    events.push({
      kind: 'repayment',
      id: String(k),
      date: valueDate as CalendarDate,
      amount,
      prepayment: 'reduce_instalment',
    });
    if (k >= prepaysAt) standing = serviceLoan(origin, events);
  }
  return lines;
}

/**
 * The structures (one to three loans each), their loans (monthly annuities of 10,000–300,000 over
 * 36–84 months, 0.5–6 %, disbursed from January 2024 to mid-February 2025, so that 12 instalments,
 * late ones included, have fallen due by 2026-03-31) and repayments, cut into batches of at most
 * `batchBytes` of CSV text; with `french`, the second half of the loans (from a structure on) in
 * French conventions, in batches of their own. `productId` is the fund's product every loan names.
 */
export function importFiles(
  loans: number,
  productId: string,
  batchBytes: number,
  french: boolean,
): ImportBatch[] {
  const draw = random(20_261_207);
  const first = Date.parse('2024-01-02T00:00:00Z');
  const span = (Date.parse('2025-02-15T00:00:00Z') - first) / 86_400_000;
  const batches: ImportBatch[] = [];
  let rows: Record<Kind, string[][]> = { structures: [], loans: [], repayments: [] };
  let bytes = 0;
  let conventions: Conventions = 'en';
  const cut = () => {
    batches.push({
      conventions,
      structures: fileText('structures', rows.structures, conventions),
      loans: fileText('loans', rows.loans, conventions),
      repayments: fileText('repayments', rows.repayments, conventions),
      counts: {
        structures: rows.structures.length,
        loans: rows.loans.length,
        repayments: rows.repayments.length,
      },
    });
    rows = { structures: [], loans: [], repayments: [] };
    bytes = 0;
  };
  let made = 0;
  for (let s = 0; made < loans; s++) {
    const [department, commune, region] = PLACES[s % PLACES.length]!;
    const siret = withLuhnCheckDigit(`${String(300_000_000 + s * 7).padStart(9, '0')}0001`);
    const group = {
      structures: [
        [
          `Import structure ${s}`,
          siret,
          LEGAL_FORMS[s % LEGAL_FORMS.length]!,
          NAF_CODES[s % NAF_CODES.length]!,
          commune,
          department,
          region,
          (1 + Math.floor(draw() * 8000) / 100).toFixed(2),
          `structure${s}@example.org`,
        ],
      ],
      loans: [] as string[][],
      repayments: [] as string[][],
    };
    for (let n = 1 + Math.floor(draw() * 3); n > 0 && made < loans; n--, made++) {
      const reference = `IMP-${String(made + 1).padStart(6, '0')}`;
      const body = {
        principal: `${10_000 + 1_000 * Math.floor(draw() * 291)}.00`,
        annual_rate_percent: (0.5 + Math.floor(draw() * 23) / 4).toFixed(2),
        periodicity: 'monthly' as const,
        term_periods: 36 + 12 * Math.floor(draw() * 5),
        method: 'annuity' as const,
        disbursement_date: addDays('2024-01-02', Math.floor(draw() * span)),
        rounding: 'half_up' as const,
      };
      group.loans.push([
        reference,
        siret,
        productId,
        body.principal,
        body.annual_rate_percent,
        'monthly',
        String(body.term_periods),
        'annuity',
        body.disbursement_date,
      ]);
      group.repayments.push(...repaymentLines(reference, termsFromBody(body), draw));
    }
    const groupBytes = [...group.structures, ...group.loans, ...group.repayments].reduce(
      (sum, line) => sum + line.join(',').length + 2,
      0,
    );
    const switching = french && conventions === 'en' && made - group.loans.length >= loans / 2;
    if (bytes > 0 && (switching || bytes + groupBytes > batchBytes)) cut();
    if (switching) conventions = 'fr';
    for (const kind of ['structures', 'loans', 'repayments'] as const)
      rows[kind].push(...group[kind]);
    bytes += groupBytes;
  }
  if (bytes > 0) cut();
  return batches;
}
