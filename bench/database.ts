import pg from 'pg';
import type { Db } from '../src/db/connect';
import { createFund } from '../src/funds/create-fund';
import type { RequestContext } from '../src/http/auth';
import { createProduct } from '../src/products/create-product';
import { createStructure } from '../src/structures/create-structure';

const ADMIN_URL =
  process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database of its own for one benchmark run, dropped after it whatever happens (kept with BENCH_KEEP_DATABASE=1, to EXPLAIN in it). */
export async function withDatabase<T>(
  prefix: string,
  run: (url: string) => Promise<T>,
): Promise<T> {
  const name = `${prefix}_${process.pid}`;
  const admin = new pg.Client(ADMIN_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`database kept: ${name}`);
    else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** A fund with a common-law product and one structure, through the use cases: what each benchmark lends from. */
export async function benchFund(db: Db, admin: RequestContext, name: string) {
  const fund = (await createFund(db, admin, { name, region_code: '84', department_codes: ['69'] }))
    .body;
  const product = (
    await createProduct(db, admin, {
      fund_id: fund.id,
      name: 'Common law',
      kind: 'common_law',
      principal_min: '1000',
      principal_max: '500000',
      annual_rate_percent_min: '0',
      annual_rate_percent_max: '10',
      term_periods_min: 1,
      term_periods_max: 240,
      deferral_periods_max: 24,
      methods: ['annuity'],
      periodicities: ['monthly'],
    })
  ).body;
  const structure = (
    await createStructure(db, admin, {
      fund_id: fund.id,
      legal_name: 'Bench coop',
      siret: '73282932000074',
      legal_form: 'cooperative',
      naf_code: '88.99B',
      commune_code: '69123',
      department_code: '69',
      region_code: '84',
      jobs_fte: '10',
      contact_email: 'bench@example.org',
    })
  ).body;
  return { fund, product, structure };
}
