import { checkStructure, type StructureFields } from '../structures/structure-rules';
import { schemaErrors } from './api-schemas';
import { fileChecks, type FileChecks } from './import-report';
import type { KnownStructure } from './imports.repository';
import type { CsvRow } from './read-csv';

/** How loans name a structure: its SIRET, or for an association without one its RNA number. */
export const structureKey = (siret: unknown, rna: unknown): string | undefined =>
  typeof siret === 'string' ? `siret:${siret}` : typeof rna === 'string' ? `rna:${rna}` : undefined;

/** The keys of the structures a loan of the import may name: the file's valid rows and the fund's own. */
export type StructureKeys = ReadonlySet<string>;

export function knownStructureKeys(known: readonly KnownStructure[]): Set<string> {
  return new Set(
    known.flatMap((s) =>
      [s.siret && `siret:${s.siret}`, s.rna && `rna:${s.rna}`].filter((key): key is string =>
        Boolean(key),
      ),
    ),
  );
}

/**
 * Each row as POST /v1/structures would take it (the same schema, then the same identifier and
 * territory rules); a structure whose SIRET (or RNA) the fund already has is already present.
 */
export function checkStructureRows(
  fundId: string,
  rows: readonly CsvRow[],
  inFund: ReadonlySet<string>,
): { checks: FileChecks; keys: Set<string> } {
  const checks = fileChecks('structures', rows.length);
  const keys = new Set<string>();
  const firstLine = new Map<string, number>();
  for (const { row, fields } of rows) {
    const body = { fund_id: fundId, ...fields } as unknown as StructureFields;
    const invalid = schemaErrors('StructureCreate', body);
    checks.failFields(row, 'invalid_request', invalid);
    if (invalid.length === 0) checks.failFields(row, 'rule_violation', checkStructure(body));
    const key = structureKey(fields.siret, fields.rna);
    if (key !== undefined && firstLine.has(key)) {
      checks.fail(
        row,
        'conflict',
        key.startsWith('siret:') ? 'siret' : 'rna',
        `is also on line ${firstLine.get(key)}: one row per structure`,
      );
    }
    if (key !== undefined && !firstLine.has(key)) firstLine.set(key, row);
    if (key !== undefined && !checks.hasFailed(row)) keys.add(key);
    checks.settle(row, key !== undefined && inFund.has(key));
  }
  return { checks, keys };
}
