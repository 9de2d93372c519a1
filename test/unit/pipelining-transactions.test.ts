/**
 * pipeliningTransactions on a stand-in for a node-postgres client: what is sent, in which write to
 * the socket, and what the caller gets when BEGIN, the last statement or the COMMIT fails (a live
 * server cannot be made to fail BEGIN on demand: a cancel would have to land on BEGIN itself).
 */
import { COMMIT_FOLLOWS, pipeliningTransactions, READS_ONLY } from '../../src/db/connect';

type Callback = (error: Error | null, result?: unknown) => void;

/**
 * Answers every statement on the next microtask, an error for those in `failing`; those in
 * `unsendable` fail as node-postgres fails a value it cannot encode: at once, before returning.
 */
function fakeClient(failing: Set<string> = new Set(), unsendable: Set<string> = new Set()) {
  const log: string[] = [];
  let corked = 0;
  const client = {
    connection: { stream: { cork: () => { corked += 1; log.push('cork'); }, uncork: () => { corked -= 1; log.push('uncork'); } } },
    query: (text: unknown, _values?: unknown, callback?: Callback) => {
      const sql = String(text);
      if (unsendable.has(sql)) {
        callback!(new Error(`${sql} cannot be sent`));
        return undefined;
      }
      log.push(corked > 0 ? `sent (corked) ${sql}` : `sent ${sql}`);
      const answer = { command: sql.split(' ').at(-1)!.toUpperCase(), rowCount: 1, rows: [{ answer: sql }] };
      const error = failing.has(sql) ? new Error(`${sql} failed`) : null;
      if (callback) {
        queueMicrotask(() => callback(error, answer));
        return undefined;
      }
      return new Promise((resolve, reject) => queueMicrotask(() => (error ? reject(error) : resolve(answer))));
    },
  };
  pipeliningTransactions(client as unknown as Parameters<typeof pipeliningTransactions>[0]);
  return { client, log };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('pipeliningTransactions', () => {
  it('sends BEGIN with a READS_ONLY first statement, in one write, and hands over the statement’s result', async () => {
    const { client, log } = fakeClient();
    await client.query('begin');
    expect(log).toEqual([]);
    const result = await client.query(`${READS_ONLY}select claim`);
    expect(result).toMatchObject({ rows: [{ answer: `${READS_ONLY}select claim` }] });
    expect(log).toEqual(['cork', 'sent (corked) begin', `sent (corked) ${READS_ONLY}select claim`, 'uncork']);
    await client.query('commit');
    expect(log.at(-1)).toBe('sent commit');
  });

  it('gives BEGIN’s error, not the READS_ONLY statement’s result, when BEGIN fails', async () => {
    const { client } = fakeClient(new Set(['begin']));
    await client.query('begin');
    await expect(client.query(`${READS_ONLY}select claim`)).rejects.toThrow('begin failed');
  });

  it('sends any other first statement only once BEGIN has answered, and never if BEGIN failed', async () => {
    const { client, log } = fakeClient();
    await client.query('begin');
    const write = client.query('insert into t');
    expect(log).toEqual(['sent begin']);
    await write;
    expect(log).toEqual(['sent begin', 'sent insert into t']);

    const failing = fakeClient(new Set(['begin']));
    await failing.client.query('begin');
    await expect(failing.client.query('insert into t')).rejects.toThrow('begin failed');
    await tick();
    expect(failing.log).toEqual(['sent begin']);
  });

  it('sends nothing at all for a transaction that sent no statement', async () => {
    const { client, log } = fakeClient();
    await client.query('begin');
    expect(await client.query('rollback')).toMatchObject({ command: 'ROLLBACK' });
    await client.query('begin');
    expect(await client.query('commit')).toMatchObject({ command: 'COMMIT' });
    expect(log).toEqual([]);
  });

  it('leaves statements outside a transaction, and after its first, as they are', async () => {
    const { client, log } = fakeClient();
    await client.query('select 1');
    await client.query('begin');
    await client.query(`${READS_ONLY}select 2`);
    await client.query('update t');
    await client.query('commit');
    expect(log.filter((line) => line.startsWith('sent'))).toEqual(['sent select 1', 'sent (corked) begin', `sent (corked) ${READS_ONLY}select 2`, 'sent update t', 'sent commit']);
  });

  const last = `${COMMIT_FOLLOWS}with w as (insert) select 1`;

  it('sends COMMIT behind the statement marked COMMIT_FOLLOWS, in one write, and gives its answer to the caller’s COMMIT', async () => {
    const { client, log } = fakeClient();
    await client.query('begin');
    await client.query(`${READS_ONLY}select claim`);
    await client.query(last);
    expect(log.slice(-4)).toEqual(['cork', `sent (corked) ${last}`, 'sent (corked) commit', 'uncork']);
    expect(await client.query('commit')).toMatchObject({ command: 'COMMIT' });
    expect(log.filter((line) => line.endsWith(' commit'))).toHaveLength(1);
  });

  it('hands a COMMIT refused by PostgreSQL (a deferred constraint) to the caller’s COMMIT, then does not send its ROLLBACK', async () => {
    const { client, log } = fakeClient(new Set(['commit']));
    await client.query('begin');
    await client.query(`${READS_ONLY}select claim`);
    await client.query(last);
    await expect(client.query('commit')).rejects.toThrow('commit failed');
    expect(await client.query('rollback')).toMatchObject({ command: 'ROLLBACK' });
    expect(log.filter((line) => line.includes('rollback'))).toEqual([]);
  });

  it('does not send COMMIT when the last statement could not even be sent: the caller’s ROLLBACK goes', async () => {
    const { client, log } = fakeClient(new Set(), new Set([last]));
    await client.query('begin');
    await client.query(`${READS_ONLY}select claim`);
    await expect(client.query(last)).rejects.toThrow('cannot be sent');
    expect(log.some((line) => line.endsWith(' commit'))).toBe(false);
    await client.query('rollback');
    expect(log.at(-1)).toBe('sent rollback');
  });

  it('when the last statement fails in PostgreSQL, the caller gets its error and its ROLLBACK is not sent (the COMMIT ended the transaction)', async () => {
    const { client, log } = fakeClient(new Set([last]));
    await client.query('begin');
    await client.query(`${READS_ONLY}select claim`);
    await expect(client.query(last)).rejects.toThrow(`${last} failed`);
    expect(await client.query('rollback')).toMatchObject({ command: 'ROLLBACK' });
    expect(log.filter((line) => line.includes('rollback'))).toEqual([]);
    await client.query('select after');
    expect(log.at(-1)).toBe('sent select after');
  });

  it('refuses a statement sent after the last one: it would run outside the transaction', async () => {
    const { client, log } = fakeClient();
    await client.query('begin');
    await client.query(last);
    await expect(client.query('update t')).rejects.toThrow(/outside its transaction/);
    expect(log.some((line) => line.includes('update t'))).toBe(false);
  });
});
