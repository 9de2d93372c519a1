/**
 * Back-office edits (issue 14, item 3): PATCH of a structure and of a product, as JSON merge patches,
 * with strong ETags and If-Match (412 when stale, the check and the write one step under the row's
 * lock), each edit in the audit trail, contact data in no log line.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import request, { type Response } from 'supertest';
import type { Database } from '../../src/db/schema';
import { STRICT_OUTBOUND } from '../../src/http/outbound';
import { ADMIN_KEY, testApp } from '../support/app';
import { loanBody } from '../support/authorization-matrix';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import {
  as,
  createKey,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
  randomSiret,
  type AuditEvent,
  type CreatedKey,
  type Fund,
} from '../support/portfolio';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

let app: Express;
let db: Kysely<Database>;
let fund: Fund;
let manager: CreatedKey;
beforeAll(async () => {
  app = await testApp({ logger: pino({ level: 'info' }, sink) });
  db = await testDb();
  ({ fund, manager } = await fundWithManager(app));
});

/** A PATCH with an optional If-Match, its answer checked against openapi.yaml. */
async function patch(
  path: string,
  body: unknown,
  options: { key?: string; ifMatch?: string; on?: Express } = {},
): Promise<Response> {
  let call = request(options.on ?? app)
    .patch(path)
    .set('Authorization', `Bearer ${options.key ?? manager.secret}`)
    .set('Content-Type', 'application/json');
  if (options.ifMatch !== undefined) call = call.set('If-Match', options.ifMatch);
  const res = await call.send(JSON.stringify(body));
  expectContract(
    res,
    'patch',
    path.startsWith('/v1/products/')
      ? '/v1/products/{product_id}'
      : '/v1/structures/{structure_id}',
  );
  return res;
}

const newStructure = (overrides: Record<string, unknown> = {}) =>
  createStructure(app, fund.id, manager.secret, overrides);
const newProduct = () => createProduct(app, fund.id, manager.secret);

async function newLoan(productId: string, structureId: string): Promise<Response> {
  return as(app, manager.secret).post('/v1/loans', loanBody(productId, structureId));
}

async function auditEventsOf(entityId: string): Promise<AuditEvent[]> {
  const res = await as(app, manager.secret).get(`/v1/audit-events?fund_id=${fund.id}&limit=200`);
  expect(res.status).toBe(200);
  return (res.body.items as AuditEvent[]).filter((event) => event.entity_id === entityId);
}

describe('editing a structure', () => {
  it('changes each field given and keeps the others (merge semantics); null clears an optional field', async () => {
    const structure = await newStructure({ webhook_url: 'https://jardins.example.org/hook' });
    const edits: Record<string, unknown>[] = [
      { legal_name: 'Association Les Jardins Réunis' },
      { legal_form: 'cooperative' },
      { esus: false },
      { naf_code: '8810A' },
      { commune_code: '01053', department_code: '01' },
      { region_code: '84' },
      { jobs_fte: 14.25 },
      { contact_email: 'direction@jardins.example.org' },
      { webhook_url: 'https://jardins.example.org/other' },
      { webhook_url: null },
    ];
    let current = (await as(app, manager.secret).get(`/v1/structures/${structure.id}`))
      .body as Record<string, unknown>;
    for (const edit of edits) {
      const res = await patch(`/v1/structures/${structure.id}`, edit);
      expect(res.status).toBe(200);
      const expected = { ...current, ...edit, ...(edit.naf_code ? { naf_code: '88.10A' } : {}) };
      expect(res.body).toEqual(expected);
      current = res.body;
    }
    expect((await as(app, manager.secret).get(`/v1/structures/${structure.id}`)).body).toEqual(
      current,
    );
  });

  it('refuses what creation refuses, on the structure as merged: 422 naming every field, nothing written', async () => {
    const structure = await newStructure();
    const res = await patch(`/v1/structures/${structure.id}`, {
      commune_code: '75056',
      jobs_fte: 1.234,
    });
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['commune_code', 'jobs_fte']);
    // An RNA alone is for associations: clearing the SIRET of a cooperative that has only an RNA is refused.
    const coop = await newStructure({ legal_form: 'cooperative' });
    const cleared = await patch(`/v1/structures/${coop.id}`, { siret: null, rna: 'W691234567' });
    expect(cleared.status).toBe(422);
    expect(fieldsOf(cleared)).toEqual(['rna']);
    expect((await as(app, manager.secret).get(`/v1/structures/${coop.id}`)).body.siret).toBe(
      coop.siret,
    );
  });

  it('refuses a webhook URL the outbound policy refuses (strict: no private address): 422 naming webhook_url', async () => {
    const strict = await testApp({ outbound: STRICT_OUTBOUND });
    const structure = await newStructure();
    const res = await patch(
      `/v1/structures/${structure.id}`,
      { webhook_url: 'https://10.0.0.7/hook' },
      { on: strict },
    );
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['webhook_url']);
    const accepted = await patch(
      `/v1/structures/${structure.id}`,
      { webhook_url: 'https://jardins.example.org/hook' },
      { on: strict },
    );
    expect(accepted.status).toBe(200);
  });

  it('changes identifiers while no loan names the structure, and refuses them once one does (409 naming the field)', async () => {
    const product = await newProduct();
    const structure = await newStructure();
    const siret = randomSiret();
    const before = await patch(`/v1/structures/${structure.id}`, { siret, rna: 'W691234567' });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ siret, rna: 'W691234567' });

    expect((await newLoan(product.id, structure.id)).status).toBe(201);
    const refused = await patch(`/v1/structures/${structure.id}`, { siret: randomSiret() });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/conflict');
    expect(fieldsOf(refused)).toEqual(['siret']);
    const cleared = await patch(`/v1/structures/${structure.id}`, {
      rna: null,
      legal_name: 'Un autre nom',
    });
    expect(cleared.status).toBe(409);
    expect(fieldsOf(cleared)).toEqual(['rna']);
    // The same identifiers given again change nothing: accepted, with the other fields.
    const same = await patch(`/v1/structures/${structure.id}`, {
      siret,
      legal_name: 'Un autre nom',
    });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ siret, rna: 'W691234567', legal_name: 'Un autre nom' });
  });

  it('a SIRET another structure of the fund has is a 409', async () => {
    const [one, two] = await Promise.all([newStructure(), newStructure()]);
    const res = await patch(`/v1/structures/${two.id}`, { siret: one.siret });
    expect(res.status).toBe(409);
    expect(fieldsOf(res)).toEqual(['siret']);
  });

  it('records each edit in the audit trail: fields from/to, the contact e-mail as "changed" only; none for an edit that changes nothing', async () => {
    const structure = await newStructure();
    const res = await patch(`/v1/structures/${structure.id}`, {
      legal_name: 'Nouveau nom',
      jobs_fte: '20',
      contact_email: 'nouvelle@example.org',
    });
    expect(res.status).toBe(200);
    const again = await patch(`/v1/structures/${structure.id}`, {
      legal_name: 'Nouveau nom',
      jobs_fte: 20,
    });
    expect(again.status).toBe(200);
    const updates = (await auditEventsOf(structure.id)).filter(
      (event) => event.action === 'structure.updated',
    );
    expect(updates).toHaveLength(1);
    const state = updates[0]!.state as { changes: unknown[]; legal_name: string };
    expect(state.legal_name).toBe('Nouveau nom');
    expect(state.changes).toEqual([
      {
        field: 'legal_name',
        from: (structure as unknown as { legal_name: string }).legal_name,
        to: 'Nouveau nom',
      },
      { field: 'jobs_fte', from: 12.5, to: 20 },
      { field: 'contact_email', changed: true },
    ]);
    const verdict = await as(app, manager.secret).get(`/v1/audit-events/verify?fund_id=${fund.id}`);
    expect(verdict.body.valid).toBe(true);
  });

  it("scope: another fund's manager 404, the auditor 403, the structure's own key 403, another structure's key 404; nothing written", async () => {
    const structure = await newStructure();
    const other = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id });
    const own = await createKey(app, {
      role: 'structure',
      fund_id: fund.id,
      structure_id: structure.id,
    });
    const neighbour = await newStructure();
    const neighbourKey = await createKey(app, {
      role: 'structure',
      fund_id: fund.id,
      structure_id: neighbour.id,
    });
    const edit = { legal_name: 'Pris en main' };
    expect(
      (await patch(`/v1/structures/${structure.id}`, edit, { key: other.manager.secret })).status,
    ).toBe(404);
    expect(
      (await patch(`/v1/structures/${structure.id}`, edit, { key: auditor.secret })).status,
    ).toBe(403);
    expect((await patch(`/v1/structures/${structure.id}`, edit, { key: own.secret })).status).toBe(
      403,
    );
    expect(
      (await patch(`/v1/structures/${structure.id}`, edit, { key: neighbourKey.secret })).status,
    ).toBe(404);
    expect((await patch(`/v1/structures/${randomUUID()}`, edit)).status).toBe(404);
    expect((await as(app, own.secret).get(`/v1/structures/${structure.id}`)).body.legal_name).toBe(
      (structure as unknown as { legal_name: string }).legal_name,
    );
    expect((await patch(`/v1/structures/${structure.id}`, edit, { key: ADMIN_KEY })).status).toBe(
      200,
    );
  });

  it('writes no contact data in the logs', async () => {
    const structure = await newStructure();
    const email = `secret-${randomUUID().slice(0, 8)}@example.org`;
    expect((await patch(`/v1/structures/${structure.id}`, { contact_email: email })).status).toBe(
      200,
    );
    expect(
      (await patch(`/v1/structures/${structure.id}`, { contact_email: email, siret: '1234' }))
        .status,
    ).toBe(400);
    expect(logLines.join('')).toContain(`/v1/structures/${structure.id}`);
    expect(logLines.join('')).not.toContain(email);
  });
});

describe('ETag and If-Match', () => {
  it('GET and PATCH carry a strong ETag that changes exactly when the structure does', async () => {
    const structure = await newStructure();
    const read = await as(app, manager.secret).get(`/v1/structures/${structure.id}`);
    const tag = read.headers.etag!;
    expect(tag).toMatch(/^"v\d+"$/);
    expect((await as(app, manager.secret).get(`/v1/structures/${structure.id}`)).headers.etag).toBe(
      tag,
    );
    const unchanged = await patch(
      `/v1/structures/${structure.id}`,
      { esus: true },
      { ifMatch: tag },
    );
    expect(unchanged.status).toBe(200);
    expect(unchanged.headers.etag).toBe(tag);
    const changed = await patch(
      `/v1/structures/${structure.id}`,
      { esus: false },
      { ifMatch: tag },
    );
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(tag);
    expect((await as(app, manager.secret).get(`/v1/structures/${structure.id}`)).headers.etag).toBe(
      changed.headers.etag,
    );
  });

  it('a stale If-Match is a 412 naming the header, and nothing is written; a list with the current tag, or *, applies', async () => {
    const structure = await newStructure();
    const stale = (await as(app, manager.secret).get(`/v1/structures/${structure.id}`)).headers
      .etag!;
    const first = await patch(
      `/v1/structures/${structure.id}`,
      { legal_name: 'Premier' },
      { ifMatch: stale },
    );
    expect(first.status).toBe(200);
    const refused = await patch(
      `/v1/structures/${structure.id}`,
      { legal_name: 'Second' },
      { ifMatch: stale },
    );
    expect(refused.status).toBe(412);
    expect(refused.body).toMatchObject({
      type: '/problems/precondition-failed',
      status: 412,
      errors: [{ field: 'If-Match', in: 'header' }],
    });
    expect(
      (await as(app, manager.secret).get(`/v1/structures/${structure.id}`)).body.legal_name,
    ).toBe('Premier');
    // A weak tag never matches (strong comparison).
    expect(
      (
        await patch(
          `/v1/structures/${structure.id}`,
          { legal_name: 'Faible' },
          { ifMatch: `W/${first.headers.etag!}` },
        )
      ).status,
    ).toBe(412);
    const listed = await patch(
      `/v1/structures/${structure.id}`,
      { legal_name: 'Troisième' },
      { ifMatch: `${stale}, ${first.headers.etag!}` },
    );
    expect(listed.status).toBe(200);
    expect(
      (await patch(`/v1/structures/${structure.id}`, { legal_name: 'Quatrième' }, { ifMatch: '*' }))
        .status,
    ).toBe(200);
    expect(
      (await patch(`/v1/structures/${structure.id}`, { legal_name: 'Sans If-Match' })).status,
    ).toBe(200);
  });

  it('of concurrent PATCHes with the same ETag, exactly one wins; the others get 412 (structures and products)', async () => {
    const structure = await newStructure();
    const product = await newProduct();
    for (const [path, body] of [
      [`/v1/structures/${structure.id}`, (i: number) => ({ legal_name: `Concurrent ${i}` })],
      [`/v1/products/${product.id}`, (i: number) => ({ name: `Concurrent ${i}` })],
    ] as const) {
      const tag = (await as(app, manager.secret).get(path)).headers.etag!;
      // All of them queue behind a lock this test holds, then race for the row from the same version
      // (three: with this transaction and the probe, the pool's five connections).
      const answers = await db.transaction().execute(async (trx) => {
        const table = path.startsWith('/v1/products') ? 'products' : 'structures';
        await sql`SELECT 1 FROM ${sql.table(table)} WHERE id = ${path.split('/')[3]}::uuid FOR UPDATE`.execute(
          trx,
        );
        const sent = [0, 1, 2].map((i) => patch(path, body(i), { ifMatch: tag }));
        await waitForLockedRequests(table, 3);
        return sent;
      });
      const statuses = (await Promise.all(answers)).map((res) => res.status).sort();
      expect(statuses).toEqual([200, 412, 412]);
    }
  });

  it('a product carries an ETag too, moved by its edits', async () => {
    const product = await newProduct();
    const tag = (await as(app, manager.secret).get(`/v1/products/${product.id}`)).headers.etag!;
    expect(tag).toMatch(/^"v\d+"$/);
    const renamed = await patch(
      `/v1/products/${product.id}`,
      { name: 'Prêt rebaptisé' },
      { ifMatch: tag },
    );
    expect(renamed.status).toBe(200);
    expect(renamed.headers.etag).not.toBe(tag);
    expect(
      (await patch(`/v1/products/${product.id}`, { active: false }, { ifMatch: tag })).status,
    ).toBe(412);
    expect((await as(app, manager.secret).get(`/v1/products/${product.id}`)).body.active).toBe(
      true,
    );
  });
});

/**
 * Waits until `count` sessions wait for a lock on the row this transaction locked: the first behind
 * this transaction, the others behind the first (a row lock's queue), so counted by what they wait on.
 */
async function waitForLockedRequests(
  table: string,
  count: number,
  query = `select * from "${table}" where "id" = $1 for update`,
): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { rows } = await sql<{
      waiting: number;
    }>`SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query = ${query}`.execute(
      db,
    );
    if ((rows[0]?.waiting ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} requests waited on the locked row`);
}

describe('editing a product', () => {
  it('deactivated, it refuses new loans (422 naming product_id) while its loan is disbursed and repaid; reactivated, it takes loans again', async () => {
    const product = await newProduct();
    const structure = await newStructure();
    const loan = await newLoan(product.id, structure.id);
    expect(loan.status).toBe(201);

    const off = await patch(`/v1/products/${product.id}`, { active: false });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const refused = await newLoan(product.id, structure.id);
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toBe('The product is deactivated: it takes no new loans.');
    expect(fieldsOf(refused)).toEqual(['product_id']);

    const disbursed = await as(app, manager.secret).post(`/v1/loans/${loan.body.id}/disbursement`, {
      date: '2025-01-15',
      amount: '10000.00',
    });
    expect(disbursed.status).toBe(200);
    const repaid = await as(app, manager.secret).post(
      `/v1/loans/${loan.body.id}/repayments`,
      { amount: '500.00', value_date: '2025-02-15' },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(repaid.status).toBe(201);
    expect((await as(app, manager.secret).get(`/v1/loans/${loan.body.id}`)).body.status).toBe(
      'active',
    );

    const on = await patch(`/v1/products/${product.id}`, { active: true });
    expect(on.body.active).toBe(true);
    expect((await newLoan(product.id, structure.id)).status).toBe(201);
  });

  it('a loan whose creation meets a deactivation under way waits for it, then is refused (422): no loan of a deactivated product slips in', async () => {
    const product = await newProduct();
    const structure = await newStructure();
    const { answer } = await db.transaction().execute(async (trx) => {
      // This transaction stands for a deactivation under way: the row locked, then changed.
      await sql`SELECT 1 FROM products WHERE id = ${product.id}::uuid FOR UPDATE`.execute(trx);
      const sent = newLoan(product.id, structure.id);
      await waitForLockedRequests(
        'products',
        1,
        'select "active" from "products" where "id" = $1 for share',
      );
      await sql`UPDATE products SET active = false WHERE id = ${product.id}::uuid`.execute(trx);
      return { answer: sent }; // wrapped: a promise returned would be awaited before the commit
    });
    const res = await answer;
    expect(res.status).toBe(422);
    expect(fieldsOf(res)).toEqual(['product_id']);
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM loans WHERE product_id = ${product.id}::uuid`.execute(db);
    expect(rows[0]!.n).toBe(0);
  });

  it('the list filters on active; the ranges cannot be changed (400: not in the contract)', async () => {
    const [kept, dropped] = await Promise.all([newProduct(), newProduct()]);
    expect((await patch(`/v1/products/${dropped.id}`, { active: false })).status).toBe(200);
    const ids = async (query: string) =>
      (
        (await as(app, manager.secret).get(`/v1/products?limit=200${query}`)).body.items as {
          id: string;
        }[]
      ).map((p) => p.id);
    expect(await ids('&active=true')).toContain(kept.id);
    expect(await ids('&active=true')).not.toContain(dropped.id);
    expect(await ids('&active=false')).toEqual(expect.arrayContaining([dropped.id]));
    expect(await ids('&active=false')).not.toContain(kept.id);
    expect(await ids('')).toEqual(expect.arrayContaining([kept.id, dropped.id]));
    const ranges = await patch(`/v1/products/${kept.id}`, { principal_max: '200000.00' });
    expect(ranges.status).toBe(400);
  });

  it('records each edit in the audit trail with from/to', async () => {
    const product = await newProduct();
    expect(
      (await patch(`/v1/products/${product.id}`, { active: false, name: 'Prêt fermé' })).status,
    ).toBe(200);
    const updates = (await auditEventsOf(product.id)).filter(
      (event) => event.action === 'product.updated',
    );
    expect(updates).toHaveLength(1);
    expect((updates[0]!.state as { changes: unknown }).changes).toEqual([
      { field: 'name', from: (product as unknown as { name: string }).name, to: 'Prêt fermé' },
      { field: 'active', from: true, to: false },
    ]);
  });

  it("scope: another fund's manager 404, the auditor 403, a structure key 404", async () => {
    const product = await newProduct();
    const structure = await newStructure();
    const other = await fundWithManager(app);
    const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id });
    const structureKey = await createKey(app, {
      role: 'structure',
      fund_id: fund.id,
      structure_id: structure.id,
    });
    expect(
      (await patch(`/v1/products/${product.id}`, { active: false }, { key: other.manager.secret }))
        .status,
    ).toBe(404);
    expect(
      (await patch(`/v1/products/${product.id}`, { active: false }, { key: auditor.secret }))
        .status,
    ).toBe(403);
    expect(
      (await patch(`/v1/products/${product.id}`, { active: false }, { key: structureKey.secret }))
        .status,
    ).toBe(404);
    expect((await as(app, manager.secret).get(`/v1/products/${product.id}`)).body.active).toBe(
      true,
    );
  });
});
