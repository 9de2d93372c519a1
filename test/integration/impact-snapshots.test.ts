import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, testApp } from '../support/app';
import { as, createKey, createStructure, fieldsOf, fundWithManager } from '../support/portfolio';

let app: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  app = await testApp();
});

/** A fund, its manager and auditor, a structure A1 with its own key, and a neighbour A2. */
async function world() {
  const { fund, manager } = await fundWithManager(app);
  const auditor = await createKey(app, { role: 'auditor', fund_id: fund.id });
  const a1 = await createStructure(app, fund.id, manager.secret);
  const a2 = await createStructure(app, fund.id, manager.secret);
  const portal = await createKey(app, { role: 'structure', fund_id: fund.id, structure_id: a1.id });
  return { fund, manager, auditor, a1, a2, portal };
}

const yearly = {
  snapshot_date: '2025-12-31',
  jobs_fte: '14.5',
  jobs_created: '3',
  jobs_maintained: 11.5,
  still_active: true,
  revenue: '820000.5',
};

describe('impact snapshots', () => {
  it("the structure's own key records its yearly answer: 201, jobs as numbers, revenue with 2 decimals, audited", async () => {
    const w = await world();
    const res = await as(app, w.portal.secret).post(
      `/v1/structures/${w.a1.id}/impact-snapshots`,
      yearly,
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      fund_id: w.fund.id,
      structure_id: w.a1.id,
      snapshot_date: '2025-12-31',
      jobs_fte: 14.5,
      jobs_created: 3,
      jobs_maintained: 11.5,
      still_active: true,
      revenue: '820000.50',
      recorded_by: w.portal.id,
    });
    expect(res.headers.location).toBe(`/v1/structures/${w.a1.id}/impact-snapshots`);
    const audit = await as(app, w.manager.secret).get(
      `/v1/audit-events?fund_id=${w.fund.id}&limit=200`,
    );
    const recorded = (
      audit.body.items as { action: string; entity_id: string; actor_key_id: string }[]
    ).filter((e) => e.action === 'impact_snapshot.recorded');
    expect(recorded).toEqual([
      expect.objectContaining({ entity_id: res.body.id, actor_key_id: w.portal.id }),
    ]);
  });

  it('a second snapshot of the same structure and date is a 409, whoever sends it; another date or structure is fine', async () => {
    const w = await world();
    expect(
      (await as(app, w.manager.secret).post(`/v1/structures/${w.a1.id}/impact-snapshots`, yearly))
        .status,
    ).toBe(201);
    const again = await as(app, w.portal.secret).post(
      `/v1/structures/${w.a1.id}/impact-snapshots`,
      { ...yearly, jobs_fte: 15 },
    );
    expect(again.status).toBe(409);
    expect(fieldsOf(again)).toEqual(['snapshot_date']);
    expect(
      (await as(app, w.manager.secret).post(`/v1/structures/${w.a2.id}/impact-snapshots`, yearly))
        .status,
    ).toBe(201);
    expect(
      (
        await as(app, w.manager.secret).post(`/v1/structures/${w.a1.id}/impact-snapshots`, {
          ...yearly,
          snapshot_date: '2026-06-30',
        })
      ).status,
    ).toBe(201);
    const list = await as(app, w.portal.secret).get(`/v1/structures/${w.a1.id}/impact-snapshots`);
    expect(
      list.body.items.map((s: { snapshot_date: string; jobs_fte: number }) => [
        s.snapshot_date,
        s.jobs_fte,
      ]),
    ).toEqual([
      ['2025-12-31', 14.5],
      ['2026-06-30', 14.5],
    ]);
    const filtered = await as(app, w.auditor.secret).get(
      `/v1/structures/${w.a1.id}/impact-snapshots?from=2026-01-01`,
    );
    expect(filtered.body.items.map((s: { snapshot_date: string }) => s.snapshot_date)).toEqual([
      '2026-06-30',
    ]);
  });

  it('two snapshots of one date sent at once: one 201, one 409, one row', async () => {
    const w = await world();
    const answers = await Promise.all(
      [w.portal.secret, w.manager.secret].map((key) =>
        as(app, key).post(`/v1/structures/${w.a1.id}/impact-snapshots`, yearly),
      ),
    );
    expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
    expect(
      (await as(app, w.manager.secret).get(`/v1/structures/${w.a1.id}/impact-snapshots`)).body
        .items,
    ).toHaveLength(1);
  });

  it('the structure key may not record for its neighbour (404), the auditor may not record at all (403)', async () => {
    const w = await world();
    expect(
      (await as(app, w.portal.secret).post(`/v1/structures/${w.a2.id}/impact-snapshots`, yearly))
        .status,
    ).toBe(404);
    expect(
      (await as(app, w.portal.secret).get(`/v1/structures/${w.a2.id}/impact-snapshots`)).status,
    ).toBe(404);
    expect(
      (await as(app, w.auditor.secret).post(`/v1/structures/${w.a1.id}/impact-snapshots`, yearly))
        .status,
    ).toBe(403);
    expect(
      (await as(app, w.manager.secret).get(`/v1/structures/${w.a1.id}/impact-snapshots`)).body
        .items,
    ).toEqual([]);
  });

  it('refuses a date to come and jobs with 3 decimals (422 naming them), and replays an Idempotency-Key', async () => {
    const w = await world();
    const refused = await as(app, w.manager.secret).post(
      `/v1/structures/${w.a1.id}/impact-snapshots`,
      { ...yearly, snapshot_date: '2999-01-01', jobs_created: 1.125 },
    );
    expect(refused.status).toBe(422);
    expect(fieldsOf(refused)).toEqual(['jobs_created', 'snapshot_date']);
    const key = { 'Idempotency-Key': randomUUID() };
    const first = await as(app, ADMIN_KEY).post(
      `/v1/structures/${w.a1.id}/impact-snapshots`,
      yearly,
      key,
    );
    const replay = await as(app, ADMIN_KEY).post(
      `/v1/structures/${w.a1.id}/impact-snapshots`,
      yearly,
      key,
    );
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
  });
});
