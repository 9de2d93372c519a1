/**
 * Identifiers of a borrowing structure: SIRET/SIREN, RNA number, NAF code, and INSEE
 * commune, department and region codes. Format and checksum only: whether the number exists is not checked here.
 */

const SIREN_FORMAT = /^[0-9]{9}$/;
const SIRET_FORMAT = /^[0-9]{14}$/;
const RNA_FORMAT = /^W[0-9]{9}$/;
const NAF_FORMAT = /^[0-9]{2}\.[0-9]{2}[A-Z]$/;
const COMMUNE_FORMAT = /^(?:[0-9]{5}|2[AB][0-9]{3})$/;

// All establishments of La Poste share one SIREN; INSEE gave them a sum-of-digits check instead of Luhn.
export const LA_POSTE_SIREN = '356000000';
// Except the head office, the only La Poste SIRET that keeps a Luhn key (its digits sum to 26, not a multiple of 5).
const LA_POSTE_HEAD_OFFICE_SIRET = '35600000000048';

const OVERSEAS_DEPARTMENTS = new Set(['971', '972', '973', '974', '975', '976']);
const REGIONS = new Set([
  '01',
  '02',
  '03',
  '04',
  '06',
  '11',
  '24',
  '27',
  '28',
  '32',
  '44',
  '52',
  '53',
  '75',
  '76',
  '84',
  '93',
  '94',
]);

/** Luhn checksum over a string of ASCII digits: every second digit from the right is doubled. */
function isLuhnValid(digits: string): boolean {
  let sum = 0;
  for (let fromRight = 0; fromRight < digits.length; fromRight++) {
    const digit = digits.charCodeAt(digits.length - 1 - fromRight) - 48;
    const weighted = fromRight % 2 === 1 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return sum % 10 === 0;
}

/** `body` followed by the one digit that makes it Luhn-valid (how SIRETs are made). */
export function withLuhnCheckDigit(body: string): string {
  const check = [...'0123456789'].find((digit) => isLuhnValid(body + digit))!;
  return body + check;
}

function digitSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48;
  return sum;
}

export function isValidSiren(siren: string): boolean {
  return SIREN_FORMAT.test(siren) && isLuhnValid(siren);
}

export function isValidSiret(siret: string): boolean {
  if (!SIRET_FORMAT.test(siret)) return false;
  if (siret.startsWith(LA_POSTE_SIREN))
    return siret === LA_POSTE_HEAD_OFFICE_SIRET || digitSum(siret) % 5 === 0;
  return isLuhnValid(siret);
}

/** Répertoire national des associations: for an association that has no SIRET. */
export function isValidRna(rna: string): boolean {
  return RNA_FORMAT.test(rna);
}

/** NAF rév. 2 sub-class, e.g. "88.99B". */
export function isValidNafCode(code: string): boolean {
  return NAF_FORMAT.test(code);
}

/** INSEE commune code (code officiel géographique), not the postal code. */
export function isValidCommuneCode(code: string): boolean {
  return COMMUNE_FORMAT.test(code) && code !== '00000';
}

export function isValidDepartmentCode(code: string): boolean {
  if (code === '2A' || code === '2B') return true;
  if (/^[0-9]{2}$/.test(code)) return code >= '01' && code <= '95' && code !== '20';
  return OVERSEAS_DEPARTMENTS.has(code);
}

export function isValidRegionCode(code: string): boolean {
  return REGIONS.has(code);
}

/** Overseas communes carry a 3-digit department ("97411" → "974"); all others a 2-character one ("2A004" → "2A"). */
export function departmentOfCommune(communeCode: string): string {
  if (!isValidCommuneCode(communeCode))
    throw new RangeError(`not an INSEE commune code: ${JSON.stringify(communeCode)}`);
  return communeCode.startsWith('97') ? communeCode.slice(0, 3) : communeCode.slice(0, 2);
}
