import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { sql, type Transaction } from 'kysely';
import request from 'supertest';
import { GENESIS_HASH, eventHash } from '../../src/audit/audit-chain';
import type { Database } from '../../src/db/schema';
import { ADMIN_KEY, testApp } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';
import {
  as,
  createFund,
  createKey,
  createProduct,
  createStructure,
  fieldsOf,
  fundWithManager,
  productBody,
  type AuditEvent,
} from '../support/portfolio';
import { until } from '../support/until';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

const GENESIS = '0'.repeat(64);

async function trailOf(fundId: string, key = ADMIN_KEY): Promise<AuditEvent[]> {
  const res = await as(app, key).get(`/v1/audit-events?fund_id=${fundId}&limit=200`);
  expect(res.status).toBe(200);
  return res.body.items as AuditEvent[];
}

const verify = (fundId: string, key = ADMIN_KEY) =>
  as(app, key).get(`/v1/audit-events/verify?fund_id=${fundId}`);
const verifyAsOf = (fundId: string, asOf: string) =>
  as(app, ADMIN_KEY).get(
    `/v1/audit-events/verify?fund_id=${fundId}&as_of=${encodeURIComponent(asOf)}`,
  );

type ChainedEvent = AuditEvent & { stream: string };
const chainOf = async (fundId: string, stream: string) =>
  ((await trailOf(fundId)) as ChainedEvent[]).filter((e) => e.stream === stream);

/** Runs `change` with the append-only trigger skipped (replica mode): what someone with direct database access could do. */
async function behindTheTrigger(
  change: (trx: Transaction<Database>) => Promise<unknown>,
): Promise<void> {
  await (await testDb()).transaction().execute(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    await change(trx);
  });
}

/**
 * Alters the state of a chain's event at `seq` and recomputes the hashes from there on with the
 * service's own eventHash, so that every link holds; with `head`, the head follows too.
 */
async function rewriteChain(
  stream: string,
  seq: number,
  alter: (state: Record<string, unknown>) => unknown,
  options: { head: boolean },
): Promise<void> {
  await behindTheTrigger(async (trx) => {
    const events = await trx
      .selectFrom('audit_events')
      .selectAll()
      .where('stream', '=', stream)
      .orderBy('seq')
      .execute();
    let prevHash = GENESIS_HASH;
    for (const event of events) {
      if (event.seq >= seq) {
        const state =
          event.seq === seq ? alter(event.state as Record<string, unknown>) : event.state;
        const hash = eventHash({ ...event, state, prev_hash: prevHash });
        await sql`UPDATE audit_events SET state = ${JSON.stringify(state)}::jsonb, prev_hash = ${prevHash}, hash = ${hash} WHERE id = ${event.id}`.execute(
          trx,
        );
        prevHash = hash;
      } else prevHash = event.hash;
    }
    const last = events.at(-1)!;
    if (options.head)
      await sql`UPDATE audit_chain_heads SET seq = ${last.seq}, prev_hash = ${last.prev_hash}, hash = ${prevHash} WHERE stream = ${stream}`.execute(
        trx,
      );
  });
}

const deleteEvent = (event: { id: string }) =>
  behindTheTrigger((trx) => sql`DELETE FROM audit_events WHERE id = ${event.id}`.execute(trx));

/** The anchor as openapi.yaml (AuditAnchor) tells an auditor to recompute it from the trail. */
function anchorOf(trail: ChainedEvent[], asOf: string): { heads: number; digest: string } {
  const last = new Map<string, ChainedEvent>();
  for (const event of trail) {
    if (
      Date.parse(event.occurred_at) <= Date.parse(asOf) &&
      event.seq > (last.get(event.stream)?.seq ?? 0)
    )
      last.set(event.stream, event);
  }
  const lines = [...last.values()].map((e) => `${e.stream} ${e.seq} ${e.hash}\n`).sort();
  return { heads: lines.length, digest: createHash('sha256').update(lines.join('')).digest('hex') };
}

/** JSON with keys sorted at every depth (RFC 8785 order for these ASCII keys), no white space. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** A fund whose every kind of change has happened once, as a manager would make them. */
async function fundWithHistory() {
  const { fund, manager } = await fundWithManager(app);
  const product = await createProduct(app, fund.id, manager.secret);
  const structure = await createStructure(app, fund.id, manager.secret);
  const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id }, manager.secret);
  const portal = await createKey(
    app,
    { role: 'structure', structure_id: structure.id },
    manager.secret,
  );
  expect((await as(app, manager.secret).delete(`/v1/api-keys/${portal.id}`)).status).toBe(200);
  return { fund, manager, product, structure, auditor, portal };
}

describe('the audit trail records every change', () => {
  it('one chain per fund, seq 1, 2, 3…, each event linked to the one before, naming who did what', async () => {
    const { fund, manager, product, structure, auditor, portal } = await fundWithHistory();
    // Revoking again changes nothing, so it records nothing.
    expect((await as(app, manager.secret).delete(`/v1/api-keys/${portal.id}`)).status).toBe(200);

    const trail = await trailOf(fund.id);
    expect(trail.map((e) => [e.seq, e.action, e.entity_id, e.actor_key_id])).toEqual([
      [1, 'fund.created', fund.id, 'admin'],
      [2, 'api_key.created', manager.id, 'admin'],
      [3, 'product.created', product.id, manager.id],
      [4, 'structure.created', structure.id, manager.id],
      [5, 'api_key.created', auditor.id, manager.id],
      [6, 'api_key.created', portal.id, manager.id],
      [7, 'api_key.revoked', portal.id, manager.id],
    ]);
    expect(trail.every((e) => e.fund_id === fund.id)).toBe(true);
    expect(trail[0]!.prev_hash).toBe(GENESIS);
    trail.slice(1).forEach((event, i) => expect(event.prev_hash).toBe(trail[i]!.hash));
    expect(new Set(trail.map((e) => e.hash)).size).toBe(trail.length);
  });

  it('each event holds the entity as the API showed it, and never a key’s secret', async () => {
    const { fund, manager } = await fundWithManager(app);
    const product = await createProduct(app, fund.id, manager.secret, {
      annual_rate_percent_max: '3.500000',
    });
    const trail = await trailOf(fund.id);
    expect(trail[0]!.state).toEqual(fund);
    expect(trail[2]!.state).toEqual(product);
    expect(trail[1]!.state).toMatchObject({ id: manager.id, role: 'manager', revoked_at: null });
    expect(JSON.stringify(trail)).not.toContain(manager.secret);
    expect(trail[1]!.state).not.toHaveProperty('secret_hash');
  });

  it('keeps the caller’s request id, so that an event can be traced to its request', async () => {
    const { fund, manager } = await fundWithManager(app);
    const res = await request(app)
      .post('/v1/products')
      .set('Authorization', `Bearer ${manager.secret}`)
      .set('X-Request-Id', 'portal-audit-7')
      .send(productBody(fund.id));
    expectContract(res, 'post', '/v1/products');
    expect(res.status).toBe(201);
    expect((await trailOf(fund.id)).at(-1)).toMatchObject({
      action: 'product.created',
      request_id: 'portal-audit-7',
    });
  });

  it('an auditor can recompute every hash: SHA-256 of prev_hash then the canonical JSON of the chained fields', async () => {
    const { fund } = await fundWithHistory();
    for (const {
      id: _id,
      hash,
      prev_hash: prevHash,
      created_at: _createdAt,
      stream,
      ...chained
    } of (await trailOf(fund.id)) as (AuditEvent & { created_at: string; stream: string })[]) {
      // The stream is hashed when it is not the fund (a loan's chain).
      const fields = stream === fund.id ? chained : { ...chained, stream };
      expect(createHash('sha256').update(prevHash).update(canonical(fields)).digest('hex')).toBe(
        hash,
      );
    }
  });

  it('PostgreSQL appends each event with the hash eventHash computes: one definition, in SQL and in TS (audit-chain.ts)', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const stored = await (
      await testDb()
    )
      .selectFrom('audit_events')
      .selectAll()
      .where('fund_id', '=', desk.fund.id)
      .execute();
    expect(new Set(stored.map((event) => event.stream))).toEqual(new Set([desk.fund.id, loan.id]));
    for (const event of stored) expect(eventHash(event)).toBe(event.hash);
  });

  it('changes made at the same moment still form one unbroken chain', async () => {
    const { fund, manager } = await fundWithManager(app);
    const created = await Promise.all(
      Array.from({ length: 6 }, () =>
        as(app, manager.secret).post('/v1/products', productBody(fund.id)),
      ),
    );
    expect(created.map((res) => res.status)).toEqual(Array(6).fill(201));
    expect((await trailOf(fund.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await verify(fund.id)).body).toMatchObject({ valid: true, events_checked: 8 });
  });
});

describe('who may read and verify the trail', () => {
  it('the fund’s auditor lists and verifies it; another fund’s trail does not exist for it', async () => {
    const { fund, auditor } = await fundWithHistory();
    const other = await createFund(app);

    const own = await as(app, auditor.secret).get('/v1/audit-events');
    expect(own.status).toBe(200);
    expect(own.body.items.map((e: AuditEvent) => e.fund_id)).toEqual(Array(7).fill(fund.id));
    const verdict = await verify(fund.id, auditor.secret);
    expect(verdict.status).toBe(200);
    expect(verdict.body).toEqual({
      fund_id: fund.id,
      valid: true,
      events_checked: 7,
      first_broken: null,
      chains_checked: 1,
      broken_chains: [],
      anchor: expect.objectContaining({ as_of: expect.any(String) }),
    });

    expect((await as(app, auditor.secret).get(`/v1/audit-events?fund_id=${other.id}`)).status).toBe(
      404,
    );
    expect((await verify(other.id, auditor.secret)).status).toBe(404);
  });

  it('a structure key sees no trail, not even its own fund’s', async () => {
    const { fund, manager, structure } = await fundWithHistory();
    const portal = await createKey(
      app,
      { role: 'structure', structure_id: structure.id },
      manager.secret,
    );
    expect((await as(app, portal.secret).get('/v1/audit-events')).status).toBe(404);
    expect((await as(app, portal.secret).get(`/v1/audit-events?fund_id=${fund.id}`)).status).toBe(
      404,
    );
    expect((await verify(fund.id, portal.secret)).status).toBe(404);
  });

  it('verify needs a fund: without fund_id it is a 400 naming it', async () => {
    const res = await as(app, ADMIN_KEY).get('/v1/audit-events/verify');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'fund_id', in: 'query' })]);
  });
});

describe('the trail cannot be rewritten unnoticed', () => {
  it('an UPDATE through SQL is refused by the append-only trigger', async () => {
    const { fund } = await fundWithManager(app);
    const db = await testDb();
    await expect(
      sql`UPDATE audit_events SET action = 'fund.deleted' WHERE fund_id = ${fund.id} AND seq = 1`.execute(
        db,
      ),
    ).rejects.toThrow(/append-only/);
    expect((await trailOf(fund.id))[0]!.action).toBe('fund.created');
  });

  it('an event altered behind the trigger’s back breaks the chain at its seq', async () => {
    const { fund } = await fundWithHistory();
    const before = await trailOf(fund.id);
    await behindTheTrigger((trx) =>
      sql`UPDATE audit_events SET state = jsonb_set(state, '{label}', '"renamed"') WHERE fund_id = ${fund.id} AND seq = 2`.execute(
        trx,
      ),
    );
    expect(((await trailOf(fund.id))[1]!.state as { label: string }).label).toBe('renamed');

    const verdict = await verify(fund.id);
    expect(verdict.status).toBe(200);
    expect(verdict.body.valid).toBe(false);
    expect(verdict.body.first_broken).toMatchObject({
      seq: 2,
      event_id: before[1]!.id,
      reason: expect.stringMatching(/altered/),
    });
  });
});

describe('a loan’s own chain', () => {
  it('a loan’s changes chain together from its creation; a repayment altered behind the trigger’s back is caught', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const paid = await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const chain = await chainOf(desk.fund.id, loan.id);
    expect(chain.map((e) => [e.seq, e.action])).toEqual([
      [1, 'loan.created'],
      [2, 'loan.disbursed'],
      [3, 'repayment.recorded'],
    ]);
    expect(chain[0]!.prev_hash).toBe(GENESIS);
    expect(chain[2]!.prev_hash).toBe(chain[1]!.hash);
    expect((await verify(desk.fund.id)).body).toMatchObject({
      valid: true,
      events_checked: (await trailOf(desk.fund.id)).length,
    });

    await behindTheTrigger((trx) =>
      sql`UPDATE audit_events SET state = jsonb_set(state, '{amount}', '"8.49"') WHERE entity_id = ${paid.body.id}`.execute(
        trx,
      ),
    );
    expect((await verify(desk.fund.id)).body).toMatchObject({
      valid: false,
      first_broken: { seq: 3, event_id: chain[2]!.id },
    });
  });
});

describe('each chain ends where its head says', () => {
  const brokenAt = (stream: string, seq: number, eventId: string | null, reason: RegExp) => ({
    stream,
    seq,
    event_id: eventId,
    reason: expect.stringMatching(reason),
  });

  it('deleting the last event of a fund’s chain leaves every link whole, but its head further on: broken', async () => {
    const { fund } = await fundWithHistory();
    const trail = await trailOf(fund.id);
    await deleteEvent(trail[6]!);

    const verdict = (await verify(fund.id)).body;
    expect(verdict).toMatchObject({
      valid: false,
      events_checked: 6,
      chains_checked: 1,
      broken_chains: [
        brokenAt(fund.id, 7, trail[5]!.id, /head is at seq 7 but the chain ends at seq 6/),
      ],
    });
    expect(verdict.first_broken).toEqual({
      seq: 7,
      event_id: trail[5]!.id,
      reason: verdict.broken_chains[0].reason,
    });
  });

  it('deleting a loan’s latest event (its repayment) is caught on the loan’s chain', async () => {
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' });
    const chain = await chainOf(desk.fund.id, loan.id);
    await deleteEvent(chain[2]!);
    expect((await verify(desk.fund.id)).body).toMatchObject({
      valid: false,
      chains_checked: 2,
      broken_chains: [brokenAt(loan.id, 3, chain[1]!.id, /deleted/)],
    });
  });

  it('deleting the whole chain of a loan that has one event leaves its head alone: an orphaned head, broken', async () => {
    const desk = await servicingDesk(app);
    const loan = await desk.api.post('/v1/loans', {
      product_id: desk.product.id,
      structure_id: desk.structure.id,
      principal: '5000.00',
      annual_rate_percent: '2',
      periodicity: 'monthly',
      term_periods: 12,
      method: 'annuity',
      disbursement_date: '2025-03-31',
    });
    const [created] = await chainOf(desk.fund.id, loan.body.id);
    await deleteEvent(created!);
    const verdict = (await verify(desk.fund.id)).body;
    expect(verdict).toMatchObject({
      valid: false,
      chains_checked: 2,
      broken_chains: [brokenAt(loan.body.id, 1, null, /no event/)],
    });
    expect(verdict.first_broken).toMatchObject({ seq: 1, event_id: null });
  });

  it('editing the last event and recomputing its hash keeps the links whole, but the head holds the old hash: broken', async () => {
    const { fund } = await fundWithHistory();
    const trail = await trailOf(fund.id);
    await rewriteChain(fund.id, 7, (state) => ({ ...state, label: 'never revoked' }), {
      head: false,
    });
    expect(((await trailOf(fund.id))[6]!.state as { label: string }).label).toBe('never revoked');
    expect((await verify(fund.id)).body).toMatchObject({
      valid: false,
      broken_chains: [brokenAt(fund.id, 7, trail[6]!.id, /head is not the last event's hash/)],
    });
  });

  it('every broken chain is reported, in stream order, not only the first', async () => {
    const desk = await servicingDesk(app);
    const loans = [await disbursedLoan(desk), await disbursedLoan(desk), await disbursedLoan(desk)];
    const [first, second] = [...loans].sort((a, b) => (a.id < b.id ? -1 : 1));
    const events = (await trailOf(desk.fund.id)).length;
    await behindTheTrigger((trx) =>
      sql`DELETE FROM audit_chain_heads WHERE stream = ${second!.id}`.execute(trx),
    );
    await deleteEvent((await chainOf(desk.fund.id, first!.id))[1]!);

    const verdict = (await verify(desk.fund.id)).body;
    expect(verdict).toMatchObject({ valid: false, events_checked: events - 1, chains_checked: 4 });
    expect(verdict.broken_chains).toEqual([
      brokenAt(first!.id, 2, expect.any(String), /deleted/),
      brokenAt(second!.id, 2, expect.any(String), /no head/),
    ]);
    expect(verdict.first_broken).toEqual({
      seq: 2,
      event_id: verdict.broken_chains[0].event_id,
      reason: verdict.broken_chains[0].reason,
    });
  });
});

describe('the anchor: a digest of every chain’s position at an instant, for an auditor to keep', () => {
  // The anchor covers events a few seconds old at least: these funds' histories are made first, then waited for.
  // Each test keeps an anchor as of `anchorAt`, the histories' end, a second or more before the cutoff, as an
  // auditor keeps one as of last month: a transaction of another test open at that moment cannot move it.
  let desks: Awaited<ReturnType<typeof servicingDesk>>[];
  let loans: { id: string }[];
  let anchorAt: string;
  beforeAll(async () => {
    desks = await Promise.all([0, 1, 2, 3].map(() => servicingDesk(app)));
    loans = await Promise.all(desks.map((desk) => disbursedLoan(desk)));
    await Promise.all(
      desks.map((desk, i) =>
        repay(desk, loans[i]!.id, { amount: '888.49', value_date: '2025-02-15' }),
      ),
    );
    const newest = Math.max(
      ...(await Promise.all(desks.map((desk) => trailOf(desk.fund.id))))
        .flat()
        .map((e) => Date.parse(e.occurred_at)),
    );
    anchorAt = new Date(newest).toISOString();
    await until(
      async () => Date.parse((await verify(desks[0]!.fund.id)).body.anchor.as_of) >= newest + 1_000,
      'the cutoff to pass the histories',
      30_000,
      250,
    );
  });
  const keptAnchor = async (fundId: string) =>
    (await verifyAsOf(fundId, anchorAt)).body.anchor as {
      as_of: string;
      heads: number;
      digest: string;
    };

  it('is the same each time it is asked for as of the same instant, and is what an auditor recomputes from the trail', async () => {
    const fundId = desks[0]!.fund.id;
    const trail = (await trailOf(fundId)) as ChainedEvent[];
    const { anchor: latest } = (await verify(fundId)).body;
    expect(latest).toEqual({ as_of: latest.as_of, ...anchorOf(trail, latest.as_of) });

    const kept = await keptAnchor(fundId);
    expect(kept).toEqual({ as_of: anchorAt, ...anchorOf(trail, anchorAt) });
    expect(kept.heads).toBe(2); // the fund's chain and the loan's
    expect((await verifyAsOf(fundId, anchorAt)).body).toMatchObject({ valid: true, anchor: kept });
    const inParis = new Date(Date.parse(anchorAt) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await verifyAsOf(fundId, inParis)).body.anchor).toEqual(kept);

    // As of an earlier instant, each chain is taken at its last event then.
    const disbursed = trail.find((e) => e.action === 'loan.disbursed')!;
    expect((await verifyAsOf(fundId, disbursed.occurred_at)).body.anchor).toEqual({
      as_of: disbursed.occurred_at,
      ...anchorOf(trail, disbursed.occurred_at),
    });
    expect((await verifyAsOf(fundId, '2000-01-01T00:00:00Z')).body.anchor).toEqual({
      as_of: '2000-01-01T00:00:00.000Z',
      heads: 0,
      digest: createHash('sha256').digest('hex'),
    });
  });

  it('changes when a chain is rewritten before it, even consistently, heads included, which verification alone cannot see', async () => {
    const [fundId, loanId] = [desks[1]!.fund.id, loans[1]!.id];
    const kept = await keptAnchor(fundId);
    await rewriteChain(loanId, 2, (state) => ({ ...state, principal: '1000.00' }), { head: true });

    const later = (await verifyAsOf(fundId, anchorAt)).body;
    expect(later).toMatchObject({
      valid: true,
      broken_chains: [],
      anchor: { as_of: anchorAt, heads: 2 },
    });
    expect(later.anchor.digest).not.toBe(kept.digest);
  });

  it('changes when a whole chain is deleted before it, head included', async () => {
    const [fundId, loanId] = [desks[2]!.fund.id, loans[2]!.id];
    const kept = await keptAnchor(fundId);
    await behindTheTrigger(async (trx) => {
      await sql`DELETE FROM audit_events WHERE stream = ${loanId}`.execute(trx);
      await sql`DELETE FROM audit_chain_heads WHERE stream = ${loanId}`.execute(trx);
    });

    const later = (await verifyAsOf(fundId, anchorAt)).body;
    expect(later).toMatchObject({
      valid: true,
      chains_checked: 1,
      anchor: { as_of: anchorAt, heads: 1 },
    });
    expect(later.anchor.digest).not.toBe(kept.digest);
  });

  it('is unchanged by events recorded after its instant, on old chains and new ones', async () => {
    const desk = desks[3]!;
    const kept = await keptAnchor(desk.fund.id);
    await repay(desk, loans[3]!.id, { amount: '100.00', value_date: '2025-03-15' });
    await createProduct(app, desk.fund.id, desk.manager.secret);
    await disbursedLoan(desk);

    expect((await verifyAsOf(desk.fund.id, anchorAt)).body).toMatchObject({
      valid: true,
      chains_checked: 3,
      anchor: kept,
    });
  });

  it('is never later than the safe cutoff: a few seconds before now (or before the oldest transaction still open)', async () => {
    const fundId = desks[0]!.fund.id;
    for (const path of [
      `/v1/audit-events/verify?fund_id=${fundId}`,
      `/v1/audit-events/verify?fund_id=${fundId}&as_of=2999-01-01T00:00:00Z`,
    ]) {
      const res = await as(app, ADMIN_KEY).get(path);
      expect(res.status).toBe(200);
      expect(Date.parse(res.body.anchor.as_of)).toBeLessThanOrEqual(Date.now() - 5_000);
    }
  });

  it('a malformed as_of, or a leap second, is a 400 naming as_of', async () => {
    const fundId = desks[0]!.fund.id;
    for (const asOf of ['yesterday', '2025-01-31', '2016-12-31T23:59:60Z']) {
      expect(fieldsOf(await verifyAsOf(fundId, asOf))).toEqual(['as_of']);
    }
    // RFC 3339 allows the leap second, so the contract lets it through; the service says why it refuses it.
    expect((await verifyAsOf(fundId, '2016-12-31T23:59:60Z')).body.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/leap second/) }),
    ]);
  });
});

describe('paging through the trail', () => {
  it('limit=1 gives a next_cursor that leads to the next event; the last page has none', async () => {
    const { fund, manager } = await fundWithManager(app);
    const first = await as(app, manager.secret).get('/v1/audit-events?limit=1');
    expect(first.body.items.map((e: AuditEvent) => e.seq)).toEqual([1]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await as(app, manager.secret).get(
      `/v1/audit-events?limit=1&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items.map((e: AuditEvent) => [e.seq, e.action])).toEqual([
      [2, 'api_key.created'],
    ]);
    expect(second.body.items[0].fund_id).toBe(fund.id);
    expect(second.body.next_cursor).toBeNull(); // the fund has two events: the last page says so
  });

  it('a forged cursor is a 400 naming cursor', async () => {
    const { manager } = await fundWithManager(app);
    await createFund(app); // two funds at least, so that the funds list has a next page
    const fundsCursor = (await as(app, ADMIN_KEY).get('/v1/funds?limit=1')).body
      .next_cursor as string;
    for (const cursor of ['not-a-cursor', Buffer.from('-1').toString('base64url'), fundsCursor]) {
      const res = await as(app, manager.secret).get(`/v1/audit-events?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'cursor', in: 'query' })]);
    }
    expect(fieldsOf(await as(app, manager.secret).get('/v1/audit-events?limit=0'))).toEqual([
      'limit',
    ]);
  });
});

describe('verifying without naming the fund', () => {
  it('a manager verifies its own fund by default; the admin must name one (400)', async () => {
    const { fund, manager } = await fundWithManager(app);
    const own = await as(app, manager.secret).get('/v1/audit-events/verify');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ fund_id: fund.id, valid: true });
    const admin = await as(app, ADMIN_KEY).get('/v1/audit-events/verify');
    expect(admin.status).toBe(400);
    expect(admin.body.errors).toEqual([
      { in: 'query', field: 'fund_id', message: 'is required for the admin' },
    ]);
  });
});
