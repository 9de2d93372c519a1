/**
 * The NAF rév. 2 section (A–U) of a NAF code, from its division (first two digits), as INSEE's
 * nomenclature groups them (docs/evaluation.md gives the source): "88.99B" → "Q".
 */
const SECTIONS: readonly (readonly [letter: string, fromDivision: number, toDivision: number])[] = [
  ['A', 1, 3],
  ['B', 5, 9],
  ['C', 10, 33],
  ['D', 35, 35],
  ['E', 36, 39],
  ['F', 41, 43],
  ['G', 45, 47],
  ['H', 49, 53],
  ['I', 55, 56],
  ['J', 58, 63],
  ['K', 64, 66],
  ['L', 68, 68],
  ['M', 69, 75],
  ['N', 77, 82],
  ['O', 84, 84],
  ['P', 85, 85],
  ['Q', 86, 88],
  ['R', 90, 93],
  ['S', 94, 96],
  ['T', 97, 98],
  ['U', 99, 99],
];

/** The section letter, or `unknown` for a division no section holds (04, 34, 40…: none exist in NAF rév. 2). */
export function nafSection(nafCode: string): string {
  const division = Number(nafCode.slice(0, 2));
  return SECTIONS.find(([, from, to]) => division >= from && division <= to)?.[0] ?? 'unknown';
}
