/**
 * How a spreadsheet's cells are read (docs/imports.md "Conventions"): each cell is turned into the
 * API's canonical spelling ("1 250,50" → "1250.50", "31/01/2025" → "2025-01-31", "3,5 %" → "3.5"),
 * then validated by the API's own schemas and rules. A cell that cannot be read is left as written,
 * so the API's validator names it with its own wording.
 */

export type Separator = ',' | ';';
export type DecimalMark = '.' | ',';

/** Everything a file's cells are read with: fixed per file from its header line. */
export interface FileConventions {
  readonly separator: Separator;
  readonly decimalMark: DecimalMark;
}

const BOM = '\uFEFF';
const REPLACEMENT = '\uFFFD';

/** The text without its byte-order mark; undefined when it is not UTF-8 (a decoder left U+FFFD in it). */
export function withoutBom(text: string): string | undefined {
  if (text.includes(REPLACEMENT)) return undefined;
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/**
 * The separator is the one of `,` and `;` found in the header line (column names contain neither);
 * the decimal mark follows it: `,` in a `;` file (French spreadsheets), `.` in a `,` file. Undefined
 * when the header has both or neither (a one-column file cannot be an import).
 */
export function conventionsOf(headerLine: string): FileConventions | undefined {
  const commas = headerLine.includes(',');
  const semicolons = headerLine.includes(';');
  if (commas === semicolons) return undefined;
  return semicolons ? { separator: ';', decimalMark: ',' } : { separator: ',', decimalMark: '.' };
}

/** Spaces a spreadsheet puts between groups of thousands: space, no-break space, narrow no-break space. */
const GROUP_SPACE = '[ \\u00A0\\u202F]';

function numberPattern(decimalMark: DecimalMark, suffix: string): RegExp {
  const decimal = decimalMark === '.' ? '\\.' : ',';
  // Either plain digits, or groups of three after 1-3 leading digits; then the decimals and an optional unit.
  return new RegExp(`^(\\d+|\\d{1,3}(?:${GROUP_SPACE}\\d{3})+)(?:${decimal}(\\d+))?${suffix}$`);
}

const AMOUNT = {
  '.': numberPattern('.', `(?:${GROUP_SPACE}?€)?`),
  ',': numberPattern(',', `(?:${GROUP_SPACE}?€)?`),
};
const PERCENT = {
  '.': numberPattern('.', `(?:${GROUP_SPACE}?%)?`),
  ',': numberPattern(',', `(?:${GROUP_SPACE}?%)?`),
};
const PLAIN = { '.': numberPattern('.', ''), ',': numberPattern(',', '') };

function canonicalNumber(cell: string, pattern: RegExp): string {
  const match = pattern.exec(cell);
  if (!match) return cell;
  const whole = match[1]!.replace(/[ \u00A0\u202F]/g, '');
  return match[2] === undefined ? whole : `${whole}.${match[2]}`;
}

/** "1 250,50 €" (`,` file) or "1250.50" (`.` file) → "1250.50"; the decimals are kept as written for the API to judge. */
export const canonicalAmount = (cell: string, decimalMark: DecimalMark): string =>
  canonicalNumber(cell, AMOUNT[decimalMark]);

/** "3,5 %" / "3.5" → "3.5". */
export const canonicalRate = (cell: string, decimalMark: DecimalMark): string =>
  canonicalNumber(cell, PERCENT[decimalMark]);

/** A decimal count such as jobs in FTEs: "12,5" → "12.5". */
export const canonicalDecimal = (cell: string, decimalMark: DecimalMark): string =>
  canonicalNumber(cell, PLAIN[decimalMark]);

const FRENCH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/** "31/01/2025" → "2025-01-31" (day first, always: never month first); "2025-01-31" as it is. */
export function canonicalDate(cell: string): string {
  const match = FRENCH_DATE.exec(cell);
  if (!match) return cell;
  return `${match[3]}-${match[2]!.padStart(2, '0')}-${match[1]!.padStart(2, '0')}`;
}

/** A whole number ("12") as a number; anything else as written (the schema then says what is expected). */
export const canonicalInteger = (cell: string): number | string =>
  /^\d{1,9}$/.test(cell) ? Number(cell) : cell;

const TRUE_WORDS = new Set(['true', 'yes', 'oui', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'non', '0']);

/** true/false, yes/no, oui/non, 1/0 in any case; anything else as written. */
export function canonicalBoolean(cell: string): boolean | string {
  const word = cell.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return cell;
}
