/**
 * The idempotent runner's transaction: a last statement or a commit that fails must leave nothing
 * behind and surface its own error, and the connections must serve the next request. On PostgreSQL
 * through node-postgres and on the embedded PGlite.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createFund } from '../../src/funds/create-fund';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import { ADMIN, type RequestContext } from '../../src/http/auth';
import { runIdempotently } from '../../src/idempotency/run-idempotently';
import type { Write } from '../../src/db/writes';
import { testDb } from '../support/db';

const context: RequestContext = { actor: ADMIN, requestId: 'run-idempotently-test' };

async function storedKeys(db: Db, key: string) {
  const { rows } = await sql<{
    status_code: number;
  }>`SELECT status_code FROM idempotency_keys WHERE owner = 'admin' AND key = ${key}`.execute(db);
  return rows;
}

async function auditEventsOf(db: Db, fundId: string) {
  const { rows } = await sql<{
    action: string;
  }>`SELECT action FROM audit_events WHERE fund_id = ${fundId} ORDER BY seq`.execute(db);
  return rows.map((row) => row.action);
}

/** Runs a request whose writes are `writes`, audited on the fund. */
function run(db: Db, fundId: string, key: string, writes: Write[]) {
  return runIdempotently(
    db,
    context,
    { owner: 'admin', key, fingerprint: { test: key } },
    async () => ({
      status: 201,
      body: { done: true },
      writes,
      audit: {
        fundId,
        action: 'test.done',
        entityType: 'fund',
        entityId: fundId,
        state: { done: true },
      },
    }),
  );
}

const databases: [string, () => Promise<{ db: Db; close: () => Promise<void> }>][] = [
  ['PostgreSQL', async () => ({ db: await testDb(), close: async () => undefined })],
  [
    'PGlite',
    async () => {
      const db = await connectDatabase({ dataDir: 'memory://' });
      await migrate(db);
      return { db, close: () => db.destroy() };
    },
  ],
];

describe.each(databases)('runIdempotently on %s', (_name, open) => {
  let db: Db;
  let close: () => Promise<void>;
  let fundId: string;
  beforeAll(async () => {
    ({ db, close } = await open());
    fundId = (
      await createFund(db, context, {
        name: `Runner ${randomUUID().slice(0, 8)}`,
        region_code: '84',
        department_codes: ['69'],
      })
    ).body.id;
  });
  afterAll(() => close());

  it('stores the response with the change, and replays it', async () => {
    const key = randomUUID();
    const name = `Renamed ${key.slice(0, 8)}`;
    expect(
      await run(db, fundId, key, [
        { query: sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}` },
      ]),
    ).toEqual({ status: 201, body: { done: true }, replayed: false });
    expect(await run(db, fundId, key, [])).toEqual({
      status: 201,
      body: { done: true },
      replayed: true,
    });
    expect(await storedKeys(db, key)).toEqual([{ status_code: 201 }]);
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });

  it('a last statement that fails rejects with its own error and leaves nothing: no key, no change, no audit event', async () => {
    const key = randomUUID();
    const before = await auditEventsOf(db, fundId);
    const failing = run(db, fundId, key, [
      { query: sql`UPDATE funds SET name = 'never' WHERE id = ${fundId}` },
      {
        query: sql`UPDATE funds SET webhook_url = 'https://example.org' WHERE id = ${fundId} AND 1 / 0 = 1`,
      },
    ]);
    await expect(failing).rejects.toThrow(/division by zero/);
    expect(await storedKeys(db, key)).toEqual([]);
    expect(await auditEventsOf(db, fundId)).toEqual(before);
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
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
      {
        name: 'entry',
        query: sql`INSERT INTO journal_entries (id, fund_id, event, value_date) VALUES (${entry}, ${fundId}, 'repayment', '2025-01-01') RETURNING id`,
      },
      {
        query: sql`INSERT INTO journal_lines (entry_id, line, account, debit) SELECT id, 1, 'cash', 10 FROM entry`,
      },
      {
        query: sql`INSERT INTO journal_lines (entry_id, line, account, credit) SELECT id, 2, 'loans_receivable', 9 FROM entry`,
      },
    ]);
    await expect(unbalanced).rejects.toThrow(/does not balance/);
    expect(await storedKeys(db, key)).toEqual([]);
    expect(await auditEventsOf(db, fundId)).toEqual(before);
    const { rows } = await sql`SELECT 1 FROM journal_entries WHERE id = ${entry}`.execute(db);
    expect(rows).toEqual([]);
  });

  it('a later failure undoes the transaction’s earlier statements', async () => {
    const name = `Before ${randomUUID().slice(0, 8)}`;
    await sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}`.execute(db);
    const failing = db.transaction().execute(async (trx) => {
      await sql`UPDATE funds SET name = 'inside' WHERE id = ${fundId}`.execute(trx);
      await sql`SELECT 1 / 0`.execute(trx);
    });
    await expect(failing).rejects.toThrow(/division by zero/);
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });
});

// node-postgres only: how its connections send BEGIN (PGlite has one connection and no wire).
describe('runIdempotently and transactions on PostgreSQL through node-postgres', () => {
  let db: Db;
  let fundId: string;
  beforeAll(async () => {
    db = await testDb();
    fundId = (
      await createFund(db, context, {
        name: `Runner pg ${randomUUID().slice(0, 8)}`,
        region_code: '84',
        department_codes: ['69'],
      })
    ).body.id;
  });

  it('a last statement that fails before reaching the server (a value that cannot be sent) undoes the statements before it', async () => {
    const key = randomUUID();
    const name = `Kept ${key.slice(0, 8)}`;
    await sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}`.execute(db);
    const unsendable = {
      toPostgres: () => {
        throw new Error('cannot encode this value');
      },
    };
    const failing = runIdempotently(
      db,
      context,
      { owner: 'admin', key, fingerprint: { test: key } },
      async (trx) => {
        await sql`UPDATE funds SET name = 'changed before the last statement' WHERE id = ${fundId}`.execute(
          trx,
        );
        return {
          status: 201,
          body: {},
          writes: [
            { query: sql`UPDATE funds SET webhook_url = ${unsendable} WHERE id = ${fundId}` },
          ],
          audit: { fundId, action: 'test.done', entityType: 'fund', entityId: fundId, state: {} },
        };
      },
    );
    await expect(failing).rejects.toThrow(/cannot encode/);
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
    expect(await storedKeys(db, key)).toEqual([]);
  });

  it('an advisory lock taken by the first statement of a transaction is held until the commit', async () => {
    const lock = Math.floor(Math.random() * 1e9);
    const other = async () => {
      const { rows } = await sql<{
        free: boolean;
      }>`SELECT pg_try_advisory_xact_lock(${lock}::bigint) AS free`.execute(db);
      return rows[0]!.free;
    };
    let seenFromOutside: boolean | undefined;
    await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        held: boolean;
      }>`SELECT pg_try_advisory_xact_lock(${lock}::bigint) AS held`.execute(trx);
      expect(rows[0]!.held).toBe(true);
      seenFromOutside = await other();
    });
    expect(seenFromOutside).toBe(false);
    expect(await other()).toBe(true);
  });

  it('a transaction begun with a read still undoes its writes when a later statement fails', async () => {
    const name = `Before ${randomUUID().slice(0, 8)}`;
    await sql`UPDATE funds SET name = ${name} WHERE id = ${fundId}`.execute(db);
    const failing = db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
      await sql`UPDATE funds SET name = 'inside' WHERE id = ${fundId}`.execute(trx);
      await sql`SELECT 1 / 0`.execute(trx);
    });
    await expect(failing).rejects.toThrow(/division by zero/);
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM funds WHERE id = ${fundId}`.execute(db);
    expect(rows[0]!.name).toBe(name);
  });
});
