/**
 * The export's plain files are written by PostgreSQL's COPY … CSV (src/db/copy-out.ts), their free
 * text neutralised in SQL (neutralisedSql), their LF line ends made CRLF (CopiedLines): the bytes
 * must be the ones csvField writes in JS, for any text. On real PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Db } from '../../src/db/connect';
import { copyCsv } from '../../src/db/copy-out';
import { CopiedLines } from '../../src/exports/copied-lines';
import { csvField, neutralised, neutralisedSql } from '../../src/http/csv';
import { closeTestDb, testDb } from '../support/db';

let db: Db;

beforeAll(async () => {
  db = await testDb();
});

afterAll(() => closeTestDb());

/** Texts PostgreSQL can hold (no NUL), often made of what the rules look at: formula starts, digits, quotes, line ends. */
const text = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      '=',
      '+',
      '-',
      '@',
      '\t',
      '\r',
      '\n',
      '"',
      ',',
      "'",
      '.',
      '0',
      '7',
      'a',
      ' ',
      'é',
      '٣',
      '\\',
      '$1',
    ),
    maxLength: 8,
  }),
  fc.string({ unit: 'binary', maxLength: 12 }).map((value) => value.replaceAll('\u0000', '')),
);

/** The bytes of a CopiedLines fed `chunks`. */
async function copied(chunks: readonly Buffer[], header: Buffer) {
  const summary = { rows: 0, bytes: 0, hash: createHash('sha256') };
  const lines = new CopiedLines(header, summary);
  const out: Buffer[] = [];
  lines.on('data', (part: Buffer) => out.push(part));
  const ended = new Promise((resolve) => lines.on('end', resolve));
  for (const chunk of chunks) lines.write(chunk);
  lines.end();
  await ended;
  const bytes = Buffer.concat(out);
  expect(summary.bytes).toBe(bytes.length);
  expect(summary.hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  return { bytes, rows: summary.rows };
}

describe('CSV written by PostgreSQL', () => {
  it('neutralisedSql is neutralised (an empty text: NULL, an empty field as well)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 40 }), async (values) => {
        const { rows } = await sql<{ cell: string | null }>`
          SELECT ${neutralisedSql(sql`t.value`)} AS cell FROM unnest(${values}::text[]) WITH ORDINALITY AS t(value, k) ORDER BY t.k`.execute(
          db,
        );
        expect(rows.map((row) => row.cell ?? '')).toEqual(values.map(neutralised));
      }),
      { numRuns: 200 },
    );
    expect(neutralised(neutralised('=1'))).toBe(neutralised('=1')); // idempotent: the PGlite pages pass it through csvField too
  });

  it("COPY's CSV of neutralised cells, made CRLF in any chunks, is csvField's lines", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(text, fc.option(text)), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (rows, cuts) => {
          const parts: Buffer[] = [];
          await db.transaction().execute((trx) =>
            copyCsv(
              trx,
              // COPY takes its parameters as literals: the rows as one JSON text.
              sql`SELECT ${neutralisedSql(sql`t.a`)}, t.k, ${neutralisedSql(sql`t.c`)}
                FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows.map(([a, c]) => ({ a, c })))}::jsonb) AS (a text, c text))
                WITH ORDINALITY AS t(a, c, k) ORDER BY t.k`,
              new Writable({
                write(chunk: Buffer, _encoding, done) {
                  parts.push(chunk);
                  done();
                },
              }),
            ),
          );
          const lf = Buffer.concat(parts);
          const at = [...new Set(cuts.map((cut) => cut % (lf.length + 1)))].sort((x, y) => x - y);
          const chunks = [0, ...at].map((from, k) => lf.subarray(from, [...at, lf.length][k]));
          const header = Buffer.from('a,k,c\r\n');
          const expected = rows
            .map(([a, c], k) => `${[a, String(k + 1), c ?? ''].map(csvField).join(',')}\r\n`)
            .join('');
          expect(await copied(chunks, header)).toEqual({
            bytes: Buffer.concat([header, Buffer.from(expected, 'utf8')]),
            rows: rows.length,
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('copyCsv', () => {
  it('stops at a failed writer, leaves the connection usable, and throws the failure', async () => {
    let seen = 0;
    const failing = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        done(seen > 100_000 ? new Error('the archive is gone') : null);
      },
    });
    const after = await db.transaction().execute(async (trx) => {
      await expect(
        copyCsv(trx, sql`SELECT g, md5(g::text) FROM generate_series(1, 500000) g`, failing),
      ).rejects.toThrow('the archive is gone');
      return (await sql<{ one: number }>`SELECT 1 AS one`.execute(trx)).rows;
    });
    expect(after).toEqual([{ one: 1 }]);
    expect(seen).toBeLessThan(10_000_000); // stopped writing: the rest was read and dropped
  });

  it("gives PostgreSQL's error, and the transaction goes on to its rollback", async () => {
    await expect(
      db
        .transaction()
        .execute((trx) =>
          copyCsv(
            trx,
            sql`SELECT 1 / (g - 3) FROM generate_series(1, 5) g`,
            new Writable({ write: (_chunk, _encoding, done) => done() }),
          ),
        ),
    ).rejects.toThrow('division by zero');
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });
});
