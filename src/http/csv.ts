import { sql, type RawBuilder } from 'kysely';

/**
 * A report as CSV (RFC 4180, CRLF line ends): one line per figure, `indicator,value`, where the
 * indicator is the figure's path in the JSON result, segments joined by '/' as in a JSON Pointer
 * (RFC 6901: '~' written '~0', '/' written '~1'), except that the members of a list are named by
 * their `key`, `year` or `month` (`by_kind/recovery/outstanding_principal`, `by_sector/88.99B/loan_count`,
 * `vintage/2024/repaid`, `expected_repayments/months/2026-03/total`). Values are as in the JSON
 * (decimal strings stay exact); null is an empty field. Every JSON figure has its line, in the order
 * of the JSON, so that the two always agree.
 */
export function reportCsv(result: unknown): string {
  const lines = ['indicator,value'];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        const name = isRecord(item) ? (item.key ?? item.year ?? item.month ?? index) : index;
        walk(isRecord(item) ? withoutName(item) : item, join(path, String(name)));
      });
    } else if (isRecord(value)) {
      for (const [key, member] of Object.entries(value)) walk(member, join(path, key));
    } else {
      lines.push(`${csvField(path)},${csvField(value === null ? '' : String(value))}`);
    }
  };
  walk(result, '');
  return `${lines.join('\r\n')}\r\n`;
}

const join = (path: string, segment: string) => {
  const escaped = segment.replaceAll('~', '~0').replaceAll('/', '~1');
  return path === '' ? escaped : `${path}/${escaped}`;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The member that names a list item is in the item's path, not a line of its own. */
function withoutName(item: Record<string, unknown>): Record<string, unknown> {
  const name =
    'key' in item ? 'key' : 'year' in item ? 'year' : 'month' in item ? 'month' : undefined;
  if (name === undefined) return item;
  const { [name]: _named, ...rest } = item;
  return rest;
}

/** What a spreadsheet reads as the start of a formula (OWASP "CSV injection"). */
const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'];
/**
 * A number as our CSVs write them (amounts, rates, counts): the sign is part of it, a spreadsheet
 * reads no formula there. One pattern for JS and PostgreSQL: `[0-9]`, as `\d` is wider in
 * PostgreSQL; `[.]`, as a backslash in an SQL literal depends on standard_conforming_strings.
 */
const NUMBER = '^-?[0-9]+([.][0-9]+)?$';
const NUMBER_PATTERN = new RegExp(NUMBER);

/**
 * A text safe to open in a spreadsheet: one that begins with '=', '+', '-', '@', a tab or a
 * carriage return would be read as a formula, so it gets a leading apostrophe, the convention
 * spreadsheets themselves use for "text, not a formula", which they hide on display. Numbers are
 * left alone, negative ones too (a trial balance's credit balance): `-12.50` is a value, not a
 * formula, and a reader that re-computes needs it as it is. The original text is the cell without
 * the apostrophe when one of those characters follows it. Idempotent.
 */
export function neutralised(value: string): string {
  return FORMULA_START.includes(value.charAt(0)) && !NUMBER_PATTERN.test(value)
    ? `'${value}`
    : value;
}

/**
 * `neutralised` in SQL, from the same characters and pattern, for the CSVs PostgreSQL's COPY writes
 * (src/exports): a free-text column's cell as csvField writes it but for the quoting, which COPY
 * does as RFC 4180 says. An empty text is NULL: COPY quotes '' (to tell it from NULL), our CSVs
 * write both as an empty field.
 */
export function neutralisedSql(text: RawBuilder<string | null>): RawBuilder<string | null> {
  const starts = sql.join(FORMULA_START.map((c) => sql.lit(c)));
  return sql<
    string | null
  >`nullif(CASE WHEN left(${text}, 1) IN (${starts}) AND ${text} !~ ${sql.lit(NUMBER)} THEN '''' || ${text} ELSE ${text} END, '')`;
}

/** One CSV field (RFC 4180), safe to open in a spreadsheet (`neutralised`), quoted when it holds a comma, a quote or a line end. */
export function csvField(value: string): string {
  const text = neutralised(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
