import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../src/db/schema';
import { ADMIN_KEY, testApp } from '../support/app';
import { testDb } from '../support/db';
import {
  as,
  breakCheckDigit,
  createFund,
  createKey,
  createStructure,
  fieldsOf,
  fundWithManager,
  randomSiret,
  structureBody,
} from '../support/portfolio';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

describe('registering a structure', () => {
  it('a manager registers one with a valid SIRET: 201, a Location, jobs with 2 decimals', async () => {
    const { fund, manager } = await fundWithManager(app);
    const body = structureBody(fund.id, {
      jobs_fte: '12.5',
      webhook_url: 'https://jardins.example.org/hook',
    });
    const res = await as(app, manager.secret).post('/v1/structures', body);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/structures/${res.body.id}`);
    expect(res.body).toMatchObject({ ...body, jobs_fte: 12.5, rna: null });

    const fetched = await as(app, manager.secret).get(res.headers.location!);
    expect(fetched.body).toEqual(res.body);
  });

  it('an association without a SIRET registers with its RNA number', async () => {
    const { fund, manager } = await fundWithManager(app);
    // esus left out: false by default
    const {
      siret: _siret,
      esus: _esus,
      ...withoutSiret
    } = structureBody(fund.id, { rna: 'W691234567' });
    const res = await as(app, manager.secret).post('/v1/structures', withoutSiret);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ siret: null, rna: 'W691234567', esus: false });
  });

  const refused: [string, (fundId: string) => Record<string, unknown>, string[]][] = [
    [
      'a SIRET whose Luhn key is wrong',
      (fundId) => structureBody(fundId, { siret: breakCheckDigit(randomSiret()) }),
      ['siret'],
    ],
    ['neither SIRET nor RNA', (fundId) => withoutIdentifiers(structureBody(fundId)), ['siret']],
    [
      'an RNA alone for a cooperative',
      (fundId) => ({
        ...withoutIdentifiers(structureBody(fundId, { legal_form: 'cooperative' })),
        rna: 'W691234567',
      }),
      ['rna'],
    ],
    [
      'a commune outside its department (Paris in the Rhône)',
      (fundId) => structureBody(fundId, { commune_code: '75056', department_code: '69' }),
      ['commune_code'],
    ],
    [
      'an unknown region',
      (fundId) => structureBody(fundId, { region_code: '99' }),
      ['region_code'],
    ],
    [
      'a bad SIRET and a commune elsewhere at once',
      (fundId) =>
        structureBody(fundId, {
          siret: breakCheckDigit(randomSiret()),
          commune_code: '2A004',
          department_code: '2B',
        }),
      ['commune_code', 'siret'],
    ],
  ];
  it.each(refused)('%s → 422 naming the fields', async (_name, bodyFor, fields) => {
    const { fund, manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).post('/v1/structures', bodyFor(fund.id));
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('/problems/rule-violation');
    expect(fieldsOf(res)).toEqual(fields);
  });

  it('a SIRET that is not 14 digits breaks the contract: 400', async () => {
    const { fund, manager } = await fundWithManager(app);
    const res = await as(app, manager.secret).post(
      '/v1/structures',
      structureBody(fund.id, { siret: '1234567890123' }),
    );
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(['siret']);
  });

  it('the same SIRET twice in one fund is a 409, yet another fund may register it', async () => {
    const { fund, manager } = await fundWithManager(app);
    const siret = randomSiret();
    await createStructure(app, fund.id, manager.secret, { siret });
    const twice = await as(app, manager.secret).post(
      '/v1/structures',
      structureBody(fund.id, { siret }),
    );
    expect(twice.status).toBe(409);
    expect(fieldsOf(twice)).toEqual(['siret']);

    const elsewhere = await createFund(app);
    const res = await as(app, ADMIN_KEY).post(
      '/v1/structures',
      structureBody(elsewhere.id, { siret }),
    );
    expect(res.status).toBe(201);
    expect(res.body.siret).toBe(siret);
  });

  // The duplicate check reads before it inserts: a registration committed in between hits the
  // unique index (fund_id, siret), which must still answer 409, not 500.
  it('a duplicate SIRET committed while the request runs is still a 409, not a 500', async () => {
    const { fund, manager } = await fundWithManager(app);
    const db = await testDb();
    const siret = randomSiret();
    let answer: Promise<{ status: number }> | undefined;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('structures')
        .values({ ...structureBody(fund.id, { siret }), id: randomUUID(), esus: true })
        .execute();
      answer = as(app, manager.secret).post('/v1/structures', structureBody(fund.id, { siret }));
      await waitForBlockedSession(db, trx);
    });
    expect((await answer!).status).toBe(409);
  });

  it('a manager cannot register in another fund (404 naming fund_id); an auditor may not register (403)', async () => {
    const { fund, manager } = await fundWithManager(app);
    const { manager: stranger } = await fundWithManager(app);
    const foreign = await as(app, stranger.secret).post('/v1/structures', structureBody(fund.id));
    expect(foreign.status).toBe(404);
    expect(fieldsOf(foreign)).toEqual(['fund_id']);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
    expect(
      (await as(app, auditor.secret).post('/v1/structures', structureBody(fund.id))).status,
    ).toBe(403);
  });
});

describe('what a structure key sees', () => {
  it('its own structure only: 200 on itself, 404 on a sibling, a list of one', async () => {
    const { fund, manager } = await fundWithManager(app);
    const own = await createStructure(app, fund.id, manager.secret);
    const sibling = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: own.id },
      manager.secret,
    );

    const self = await as(app, portal.secret).get(`/v1/structures/${own.id}`);
    expect(self.status).toBe(200);
    expect(self.body).toEqual(own);
    const other = await as(app, portal.secret).get(`/v1/structures/${sibling.id}`);
    expect(other.status).toBe(404);
    expect(other.body.detail).toBe(
      (await as(app, portal.secret).get(`/v1/structures/${randomUUID()}`)).body.detail,
    );

    expect((await as(app, portal.secret).get('/v1/structures')).body).toEqual({
      items: [own],
      next_cursor: null,
    });
    expect(
      (await as(app, portal.secret).get(`/v1/structures?fund_id=${fund.id}`)).body.items,
    ).toEqual([own]);

    const managerList = await as(app, manager.secret).get('/v1/structures');
    expect(managerList.body.items.map((s: { id: string }) => s.id)).toEqual([own.id, sibling.id]);
  });

  it('a structure key cannot register a structure: the fund is outside its scope, 404', async () => {
    const { fund, manager } = await fundWithManager(app);
    const own = await createStructure(app, fund.id, manager.secret);
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: own.id },
      manager.secret,
    );
    const res = await as(app, portal.secret).post('/v1/structures', structureBody(fund.id));
    expect(res.status).toBe(404);
    expect((await as(app, manager.secret).get('/v1/structures')).body.items).toHaveLength(1);
  });
});

function withoutIdentifiers<T extends { siret?: string; rna?: string }>(
  body: T,
): Omit<T, 'siret' | 'rna'> {
  const { siret: _siret, rna: _rna, ...rest } = body;
  return rest;
}

/** Waits until the request's session is blocked behind this transaction (on the unique index). */
async function waitForBlockedSession(
  db: Kysely<Database>,
  trx: Transaction<Database>,
): Promise<void> {
  const {
    rows: [holder],
  } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
  // Asked from another session: inside a transaction, pg_stat_activity is a frozen snapshot.
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await sql<{
      blocked: number;
    }>`SELECT count(*)::int AS blocked FROM pg_stat_activity WHERE ${holder!.pid}::int = ANY (pg_blocking_pids(pid))`.execute(
      db,
    );
    if ((rows[0]?.blocked ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the request never waited on the uncommitted structure');
}

describe('lenient inputs for what is not money', () => {
  it('jobs as a JSON number, a NAF code without its dot, and nulls for absent optional fields are accepted', async () => {
    const { fund, manager } = await fundWithManager(app);
    const body = structureBody(fund.id, {
      jobs_fte: 7.25,
      naf_code: '8899B',
      rna: null,
      webhook_url: null,
    });
    const res = await as(app, manager.secret).post('/v1/structures', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      jobs_fte: 7.25,
      naf_code: '88.99B',
      rna: null,
      webhook_url: null,
    });
  });

  it('jobs with 3 decimals, or negative, are refused', async () => {
    const { fund, manager } = await fundWithManager(app);
    const threeDecimals = await as(app, manager.secret).post(
      '/v1/structures',
      structureBody(fund.id, { jobs_fte: 1.125 }),
    );
    expect(threeDecimals.status).toBe(422);
    expect(fieldsOf(threeDecimals)).toEqual(['jobs_fte']);
    const negative = await as(app, manager.secret).post(
      '/v1/structures',
      structureBody(fund.id, { jobs_fte: -1 }),
    );
    expect(negative.status).toBe(400);
  });
});
