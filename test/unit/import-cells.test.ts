import fc from 'fast-check';
import {
  canonicalAmount,
  canonicalBoolean,
  canonicalDate,
  canonicalRate,
  conventionsOf,
  withoutBom,
} from '../../src/imports/cell-conventions';
import { columnOfHeader } from '../../src/imports/import-columns';
import { cents, formatMoney, parseMoney } from '../../src/domain/money';
import { formatRate, parseRate } from '../../src/domain/rate';

const SPACES = [' ', '\u00A0', '\u202F'];
const DAY_MS = 86_400_000;
const addDays = (iso: string, days: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** "1234567.89" as a spreadsheet writes it: groups of three split by `space`, then `mark` and the cents. */
function written(amount: string, mark: '.' | ',', space: string | null): string {
  const [whole, decimals] = amount.split('.') as [string, string];
  const grouped = space === null ? whole : whole.replace(/\B(?=(\d{3})+$)/g, space);
  return `${grouped}${mark}${decimals}`;
}

describe('reading an amount cell', () => {
  it('any amount written in English or French conventions, grouped or not, reads back to the same cents', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 99_999_999_999_999n }),
        fc.constantFrom<'.' | ','>('.', ','),
        fc.option(fc.constantFrom(...SPACES)),
        fc.boolean(),
        (amount, mark, space, euro) => {
          const text = formatMoney(cents(amount));
          const cell = written(text, mark, space) + (euro ? ' €' : '');
          expect(parseMoney(canonicalAmount(cell, mark))).toBe(amount);
        },
      ),
    );
  });

  it.each([
    ['1 250,50', ',', '1250.50'],
    ['1\u202F250,5', ',', '1250.5'],
    ['1250', ',', '1250'],
    ['1250.50', '.', '1250.50'],
    ['12 500,00 €', ',', '12500.00'],
    ['12500.00€', '.', '12500.00'],
  ] as const)('%j in a file whose decimal mark is %j is %j', (cell, mark, canonical) => {
    expect(canonicalAmount(cell, mark)).toBe(canonical);
  });

  it.each([
    ['1.250,50', ','], // `.` never groups thousands
    ['1,250.50', '.'], // nor `,`
    ['1250.50', ','], // the other decimal mark than the file's
    ['1250,50', '.'],
    ['12 50,00', ','], // a group of two
    ['-5', '.'],
    ['1e3', '.'],
  ] as const)(
    '%j in a file whose decimal mark is %j is left as written, for the API to refuse',
    (cell, mark) => {
      expect(canonicalAmount(cell, mark)).toBe(cell);
    },
  );
});

describe('reading a rate cell', () => {
  it('any rate written with either mark, with or without "%", reads back to the same rate', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 100_000_000n }),
        fc.constantFrom<'.' | ','>('.', ','),
        fc.constantFrom('', '%', ' %', '\u202F%'),
        (units, mark, percent) => {
          const text = formatRate(units as ReturnType<typeof parseRate>);
          const cell = (mark === ',' ? text.replace('.', ',') : text) + percent;
          expect(parseRate(canonicalRate(cell, mark))).toBe(units);
        },
      ),
    );
  });
});

describe('reading a date cell', () => {
  it('any date written day first (DD/MM/YYYY) reads as the same ISO date; ISO dates are kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 365 }), (offset) => {
        const iso = addDays('1900-01-01', offset);
        const [y, m, d] = iso.split('-');
        expect(canonicalDate(`${d}/${m}/${y}`)).toBe(iso);
        expect(canonicalDate(`${Number(d)}/${Number(m)}/${y}`)).toBe(iso);
        expect(canonicalDate(iso)).toBe(iso);
      }),
    );
  });

  it('never reads a date month first: 02/31/2025 becomes 2025-31-02, which the API refuses', () => {
    expect(canonicalDate('02/31/2025')).toBe('2025-31-02');
  });
});

describe('a file’s conventions', () => {
  it('come from its header line: `;` means a decimal comma, `,` a decimal point; both or neither is refused', () => {
    expect(conventionsOf('montant;date_valeur')).toEqual({ separator: ';', decimalMark: ',' });
    expect(conventionsOf('amount,value_date')).toEqual({ separator: ',', decimalMark: '.' });
    expect(conventionsOf('amount,value_date;reference')).toBeUndefined();
    expect(conventionsOf('amount\tvalue_date')).toBeUndefined();
  });

  it('a BOM is dropped; a replacement character means the text was not UTF-8', () => {
    expect(withoutBom('\uFEFFa;b')).toBe('a;b');
    expect(withoutBom('a;b')).toBe('a;b');
    expect(withoutBom('Caf\uFFFD;b')).toBeUndefined();
  });

  it('French headers, accents and spaces aside, name the same columns', () => {
    expect(columnOfHeader('repayments', ' Date valeur ')?.name).toBe('value_date');
    expect(columnOfHeader('repayments', 'Référence prêt')?.name).toBe('loan_external_reference');
    expect(columnOfHeader('loans', 'montant')?.name).toBe('principal');
    expect(columnOfHeader('loans', 'amount')).toBeUndefined();
  });

  it('booleans: true/false, yes/no, oui/non, 1/0', () => {
    expect(['OUI', 'yes', 'true', '1'].map(canonicalBoolean)).toEqual([true, true, true, true]);
    expect(['Non', 'no', 'FALSE', '0'].map(canonicalBoolean)).toEqual([false, false, false, false]);
    expect(canonicalBoolean('peut-être')).toBe('peut-être');
  });
});
