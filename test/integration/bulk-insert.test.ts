import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { insertRows } from '../../src/db/bulk-insert';
import { connectDatabase, type Db } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import { onConnection } from '../../src/db/on-connection';
import { closeTestDb, testDb } from '../support/db';

/** Text COPY's format must escape (tab, newline, CR, backslash, the null marker) and text it must not. */
const AWKWARD = [
  'a\tb',
  'line\nnext',
  'cr\rlf',
  'back\\slash',
  '\\N',
  '',
  ' ',
  'é – “quoted” ,;',
  '=',
];

const event = (fundId: string, k: number, text: string) => ({
  fund_id: fundId,
  stream: fundId,
  seq: k + 1,
  occurred_at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, k)),
  actor_key_id: text || 'key',
  action: `test.${k}`,
  entity_type: text,
  entity_id: randomUUID(),
  request_id: k % 2 === 0 ? null : text,
  state: { text, nested: [text, null, 1.5, { deep: text }], flag: true },
  prev_hash: '0'.repeat(64),
  hash: k.toString(16).padStart(64, 'a'),
});

async function storedEvents(db: Db, fundId: string) {
  const rows = await db
    .selectFrom('audit_events')
    .select([
      'seq',
      'occurred_at',
      'actor_key_id',
      'entity_type',
      'request_id',
      'state',
      'hash',
      'entity_id',
    ])
    .where('fund_id', '=', fundId)
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({ ...row, occurred_at: new Date(row.occurred_at).toISOString() }));
}

const newFund = async (db: Db) =>
  (
    await db
      .insertInto('funds')
      .values({ name: 'Bulk', region_code: '84', department_codes: ['69'] })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

/**
 * insertRows writes through COPY on PostgreSQL and through one JSON parameter on PGlite: both must
 * store exactly the values given, whatever the text holds, and refuse a bad batch whole.
 */
describe('insertRows', () => {
  let pglite: Db;
  beforeAll(async () => {
    pglite = await connectDatabase({ dataDir: 'memory://' });
    await migrate(pglite);
  });
  afterAll(async () => {
    await pglite.destroy();
    await closeTestDb();
  });

  it('stores every value as given on PostgreSQL (COPY) and on PGlite (JSON), the same', async () => {
    const stored = [];
    for (const db of [await testDb(), pglite]) {
      const fundId = await newFund(db);
      const rows = AWKWARD.map((text, k) => event(fundId, k, text));
      await db.transaction().execute((trx) => insertRows(trx, 'audit_events', rows));
      const back = await storedEvents(db, fundId);
      expect(back).toEqual(
        rows.map((row) => ({
          seq: row.seq,
          occurred_at: row.occurred_at.toISOString(),
          actor_key_id: row.actor_key_id,
          entity_type: row.entity_type,
          request_id: row.request_id,
          state: row.state,
          hash: row.hash,
          entity_id: row.entity_id,
        })),
      );
      stored.push(back.map(({ entity_id: _id, ...rest }) => rest));
    }
    expect(stored[0]).toEqual(stored[1]);
  });

  it('runs COPY on PostgreSQL’s own client, and says PGlite has none', async () => {
    const db = await testDb();
    const answer = await db
      .transaction()
      .execute((trx) =>
        onConnection(trx, async (client) => (await client.query('SELECT 41 + 1 AS n')).rows[0]),
      );
    expect(answer).toEqual({ answer: { n: 42 } });
    expect(await pglite.transaction().execute((trx) => onConnection(trx, async () => 1))).toBe(
      'unsupported',
    );
  });

  it('refuses a batch with one bad row whole, and the transaction goes no further', async () => {
    const db = await testDb();
    const fundId = await newFund(db);
    const rows = AWKWARD.map((text, k) => event(fundId, k, text));
    rows[5] = { ...rows[5]!, hash: 'not a sha-256' };
    await expect(
      db.transaction().execute(async (trx) => {
        await insertRows(trx, 'audit_events', rows);
        await sql`SELECT 1`.execute(trx);
      }),
    ).rejects.toThrow(/sha256_hex/);
    expect(await storedEvents(db, fundId)).toEqual([]);
  });
});
