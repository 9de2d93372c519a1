/**
 * The idempotent runner's last statement and its COMMIT are sent together (pipeline mode), and BEGIN
 * is not waited for: a statement that fails, or a commit that fails, must still leave nothing behind
 * and surface its own error; the connection must serve the next request. On PostgreSQL through
 * node-postgres and on the embedded PGlite.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createFund } from '../../src/funds/create-fund';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import { ADMIN, type RequestContext } from '../../src/http/auth';
import { runIdempotently } from '../../src/idempotency/run-idempotently';
import { executeWrites, type Write } from '../../src/db/writes';
import { testDb } from '../support/db';

const context: RequestContext = { actor: ADMIN, requestId: 'run-idempotently-test' };

async function storedKeys(db: Db, key: string) {
  const { rows } = await sql<{ status_code: number }>`SELECT status_code FROM idempotency_keys WHERE owner = 'admin' AND key = ${key}`.execute(db);
  return rows;
}

async function auditEventsOf(db: Db, fundId: string) {
  const { rows } = await sql<{ action: string }>`SELECT action FROM audit_events WHERE fund_id = ${fundId} ORDER BY seq`.execute(db);
  return rows.map((row) => row.action);
}

/** Runs a request whose writes are `writes`, audited on the fund. */
function run(db: Db, fundId: string, key: string, writes: Write[]) {
  return runIdempotently(db, context, { owner: 'admin', key, fingerprint: { test: key } }, async () => ({
    status: 201, body: { done: true }, writes,
    audit: { fundId, action: 'test.done', entityType: 'fund', entityId: fundId, state: { done: true } },
  }));
}

const databases: [string, () => Promise<{ db: Db; close: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => ({ db: await testDb(), close: async () => undefined })],
  ['PGlite', async () => {
    const db = await connectDatabase({ dataDir: 'memory://' });
    await migrate(db);
    return { db, close: () => db.destroy() };
  }],
];

describe.each(databases)('runIdempotently on %s', (_name, open) => {
  let db: Db;
  let close: () => Promise<void>;
  let fundId: string;
  beforeAll(async () => {
    ({ db, close } = await open());
    fundId = (await createFund(db, context, { name: `Runner ${randomUUID().slice(0, 8)}`, region_code: '84', department_codes: ['69'] })).id;
  });
  afterAll(() => close());

  it('stores the response with the change, and replays it', async () => {
    const key = randomUUID();
    const name = `Renamed ${key.slice(0, 8)}`;
    expect(await run(db, fundId, key, [{ query: sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}` }])).toEqual({ status: 201, body: { done: true }, replayed: false });
    expect(await run(db, fundId, key, [])).toEqual({ status: 201, body: { done: true }, replayed: true });
    expect(await storedKeys(db, key)).toEqual([{ status_code: 201 }]);
    const { rows } = await sql<{ name: string }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });

  it('a last statement that fails rejects with its own error and leaves nothing: no key, no change, no audit event', async () => {
    const key = randomUUID();
    const before = await auditEventsOf(db, fundId);
    const failing = run(db, fundId, key, [
      { query: sql`UPDATE funds SET name = 'never' WHERE id = ${fundId}` },
      { query: sql`UPDATE funds SET webhook_url = 'https://example.org' WHERE id = ${fundId} AND 1 / 0 = 1` },
    ]);
    await expect(failing).rejects.toThrow(/division by zero/);
    expect(await storedKeys(db, key)).toEqual([]);
    expect(await auditEventsOf(db, fundId)).toEqual(before);
    const { rows } = await sql<{ name: string }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).not.toBe('never');
    // The key was never used: it runs now, on connections that are back to normal.
    expect(await run(db, fundId, key, [])).toMatchObject({ replayed: false });
    expect(await storedKeys(db, key)).toEqual([{ status_code: 201 }]);
  });

  it('a commit refused by a deferred constraint (an unbalanced journal entry) rejects and leaves nothing', async () => {
    const key = randomUUID();
    const before = await auditEventsOf(db, fundId);
    const entry = randomUUID();
    const unbalanced = run(db, fundId, key, [
      { name: 'entry', query: sql`INSERT INTO journal_entries (id, fund_id, event, value_date) VALUES (${entry}, ${fundId}, 'repayment', '2025-01-01') RETURNING id` },
      { query: sql`INSERT INTO journal_lines (entry_id, line, account, debit) SELECT id, 1, 'cash', 10 FROM entry` },
      { query: sql`INSERT INTO journal_lines (entry_id, line, account, credit) SELECT id, 2, 'loans_receivable', 9 FROM entry` },
    ]);
    await expect(unbalanced).rejects.toThrow(/does not balance/);
    expect(await storedKeys(db, key)).toEqual([]);
    expect(await auditEventsOf(db, fundId)).toEqual(before);
    const { rows } = await sql`SELECT 1 FROM journal_entries WHERE id = ${entry}`.execute(db);
    expect(rows).toEqual([]);
  });

  it('a transaction begun without waiting still holds all of its statements: a later failure undoes the earlier ones', async () => {
    const name = `Before ${randomUUID().slice(0, 8)}`;
    await sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}`.execute(db);
    const failing = db.transaction().execute(async (trx) => {
      await sql`UPDATE funds SET name = 'inside' WHERE id = ${fundId}`.execute(trx);
      await sql`SELECT 1 / 0`.execute(trx);
    });
    await expect(failing).rejects.toThrow(/division by zero/);
    const { rows } = await sql<{ name: string }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });

  it('a statement marked as followed by its COMMIT is still sent when something else comes first', async () => {
    const name = `Held ${randomUUID().slice(0, 8)}`;
    await db.transaction().execute(async (trx) => {
      await executeWrites(trx, [{ query: sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}` }], { commitFollows: true });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await sql`SELECT 1`.execute(trx);
    });
    const { rows } = await sql<{ name: string }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });
});
