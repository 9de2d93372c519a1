/**
 * On PostgreSQL the export's plain files are written by COPY (src/db/copy-out.ts); on PGlite, by JS
 * pages of the same queries. Both ways must give the same bundle, byte for byte, whatever the text
 * a fund's users typed (formulas, quotes, commas, line ends).
 */
import type { Express } from 'express';
import { sql } from 'kysely';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db/connect';
import type { CalendarDate } from '../../src/domain/dates';
import { exportFiles } from '../../src/exports/export-files';
import { writeBundle, type FileSummary } from '../../src/exports/write-bundle';
import { hashSecret } from '../../src/http/auth';
import { ADMIN_KEY } from '../support/app';
import { closeTestDb, testDb } from '../support/db';
import { disbursedLoan, repay, servicingDesk } from '../support/servicing';

let db: Db;
let app: Express;

beforeAll(async () => {
  db = await testDb();
  app = createApp({ logger: pino({ level: 'silent' }), db, adminKeyHash: hashSecret(ADMIN_KEY) });
});

afterAll(() => closeTestDb());

const REFERENCES = [
  '=1+2',
  'say "hi", twice',
  '-12.50',
  '-x',
  '@SUM(A1)\nnext line',
  '\tTab',
  "'kept",
];

/** The bundle's bytes, its files written by COPY or not, from one snapshot, and its files' summaries. */
async function bundle(fundId: string, asOf: CalendarDate, cutoff: Date, copy: boolean) {
  const chunks: Buffer[] = [];
  let summaries: readonly FileSummary[] = [];
  await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) =>
      writeBundle({
        trx,
        copy,
        files: exportFiles(fundId, asOf, cutoff),
        made: new Date('2026-01-01T00:00:00Z'),
        manifest: (files) => ({ files: (summaries = files) }),
        store: async (_seq, bytes) => {
          chunks.push(bytes);
        },
        fileDone: async () => undefined,
      }),
    );
  return { zip: Buffer.concat(chunks), rows: summaries.map(({ name, rows }) => [name, rows]) };
}

describe('the export bundle, by COPY or by JS pages', () => {
  it('is the same, byte for byte', async () => {
    const desk = await servicingDesk(app, 'common_law', {
      structure: { legal_name: '=HYPERLINK("http://evil.example","click")' },
    });
    const loan = await disbursedLoan(desk);
    for (const [k, reference] of REFERENCES.entries()) {
      const paid = await repay(desk, loan.id, {
        amount: '10.00',
        value_date: `2025-02-${String(10 + k).padStart(2, '0')}`,
        reference,
      });
      expect(paid.status).toBe(201);
      if (k === 1) {
        const reversed = await desk.api.post(
          `/v1/loans/${loan.id}/repayments/${paid.body.id}/reversal`,
          { reason: '+33 "returned",\r\nunpaid' },
        );
        expect(reversed.status).toBe(200);
      }
    }
    const {
      rows: [now],
    } = await sql<{ today: string }>`SELECT current_date::text AS today`.execute(db);
    const asOf = now!.today as CalendarDate;
    const cutoff = new Date(Date.now() + 60_000);
    const byCopy = await bundle(desk.fund.id, asOf, cutoff, true);
    const byPages = await bundle(desk.fund.id, asOf, cutoff, false);
    expect(byCopy.zip.equals(byPages.zip)).toBe(true);
    expect(byCopy.rows).toEqual(byPages.rows);
    expect(Object.fromEntries(byCopy.rows)).toMatchObject({
      'loans.csv': 1,
      'instalments.csv': 12,
      'repayments.csv': REFERENCES.length,
      'audit_events.csv': expect.any(Number),
    });
    expect(Object.fromEntries(byCopy.rows)['audit_events.csv']).toBeGreaterThan(REFERENCES.length);
  });
});
