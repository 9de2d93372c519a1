import { readFileSync } from 'node:fs';

/**
 * French administrative divisions from @etalab/decoupage-administratif (INSEE's Code officiel
 * géographique and the DGCL's EPCI list, the year of the installed package): a commune code as a
 * structure records it → the current commune, its EPCI, department and region, with official names.
 * The package's JSON files (12 MB) are read once per process, on first use, into the maps below; the
 * parsed arrays are dropped after (docs/territories.md gives the memory this keeps).
 */
export type Level = 'commune' | 'epci' | 'department' | 'region';
export const LEVELS: readonly Level[] = ['commune', 'epci', 'department', 'region'];

export interface Division {
  readonly code: string;
  readonly name: string | null;
}

/** A current commune and what it belongs to; `epci` null for the few communes in none (islands: Île-de-Bréhat, Ouessant…). */
export interface Placement {
  readonly commune: Division;
  readonly epci: Division | null;
  readonly department: Division;
  readonly region: Division;
}

export interface Divisions {
  /** The placement of a commune code: current, an arrondissement municipal, or a former code; undefined when unknown. */
  place(communeCode: string): Placement | undefined;
}

interface CommuneEntry {
  code: string;
  nom: string;
  type: string;
  departement: string;
  region: string;
  commune?: string;
  chefLieu?: string;
  anciensCodes?: string[];
}
interface NamedEntry {
  code: string;
  nom: string;
  membres?: { code: string }[];
}

const read = <T>(file: string): T =>
  JSON.parse(
    readFileSync(require.resolve(`@etalab/decoupage-administratif/data/${file}`), 'utf8'),
  ) as T;

/**
 * Builds the maps. Codes that are no longer a commune of their own are sent to the one that holds
 * them: an arrondissement municipal of Paris, Lyon or Marseille (75101…, 69381…, 13201…) to its
 * commune (`commune`: 75056, 69123, 13055); a commune merged into a commune nouvelle (its code in
 * `anciensCodes`, or a commune déléguée or associée, `chefLieu`) to that commune.
 */
export function buildDivisions(
  communes: readonly CommuneEntry[],
  epcis: readonly NamedEntry[],
  departments: readonly NamedEntry[],
  regions: readonly NamedEntry[],
): Divisions {
  const departmentNames = new Map(departments.map((d) => [d.code, d.nom]));
  const regionNames = new Map(regions.map((r) => [r.code, r.nom]));
  const epciOf = new Map<string, Division>();
  for (const epci of epcis) {
    const division = { code: epci.code, name: epci.nom };
    for (const member of epci.membres ?? []) epciOf.set(member.code, division);
  }
  const placements = new Map<string, Placement>();
  for (const c of communes) {
    if (c.type !== 'commune-actuelle') continue;
    placements.set(c.code, {
      commune: { code: c.code, name: c.nom },
      epci: epciOf.get(c.code) ?? null,
      department: { code: c.departement, name: departmentNames.get(c.departement) ?? null },
      region: { code: c.region, name: regionNames.get(c.region) ?? null },
    });
  }
  const former = new Map<string, string>();
  for (const c of communes) {
    if (c.type === 'commune-actuelle')
      for (const old of c.anciensCodes ?? []) former.set(old, c.code);
    else if (c.type === 'arrondissement-municipal' && c.commune) former.set(c.code, c.commune);
    else if (c.chefLieu && c.chefLieu !== c.code) former.set(c.code, c.chefLieu);
  }
  for (const [old, current] of former) {
    // A chef-lieu may itself be a former code: follow it (a couple of steps at most).
    let target: string | undefined = current;
    for (let step = 0; target !== undefined && !placements.has(target) && step < 3; step++)
      target = former.get(target);
    const placement = target === undefined ? undefined : placements.get(target);
    if (placement && !placements.has(old)) placements.set(old, placement);
  }
  return { place: (code) => placements.get(code) };
}

let loaded: Divisions | undefined;

/** The divisions of the installed package, read on first use and kept for the life of the process. */
export function divisions(): Divisions {
  loaded ??= buildDivisions(
    read('communes.json'),
    read('epci.json'),
    read('departements.json'),
    read('regions.json'),
  );
  return loaded;
}
