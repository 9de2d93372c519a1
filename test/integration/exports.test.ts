/**
 * The auditor's export bundle (issue 14): POST answers 202; the request reaches a worker through the
 * outbox and BullMQ (real Redis); the worker streams a ZIP into PostgreSQL; GET serves it. The test
 * unzips it and re-computes what an auditor would: the manifest's counts and checksums, the trial
 * balance from journal.csv, each loan's outstanding principal from instalments.csv and
 * repayments.csv, each against what the API answers as of the same date. On a database of this
 * file's own: its workers process every job they find.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import pino from 'pino';
import request from 'supertest';
import yauzl from 'yauzl';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Db } from '../../src/db/connect';
import { connectDatabase } from '../../src/db/connect';
import { migrate } from '../../src/db/migrate';
import { buildExport } from '../../src/exports/build-export';
import { requeueStalledExports } from '../../src/exports/exports.repository';
import { hashSecret } from '../../src/http/auth';
import { startWorkers } from '../../workers/start';
import { ADMIN_KEY } from '../support/app';
import { expectContract } from '../support/contract';
import { isolatedDatabase } from '../support/db';
import { as, createKey, createStructure } from '../support/portfolio';
import { disbursedLoan, repay, servicingDesk, type Desk } from '../support/servicing';
import { until } from '../support/until';

let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;

beforeAll(async () => {
  iso = await isolatedDatabase('exports');
  db = iso.db;
  app = createApp({ logger: pino({ level: 'silent' }), db, adminKeyHash: hashSecret(ADMIN_KEY) });
});

afterAll(async () => {
  await iso.drop();
});

const AS_OF = '2025-06-30';
const FORMULA = '=HYPERLINK("http://evil.example","click")';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const cents = (amount: string) => BigInt(amount.replace('.', ''));
const money = (value: bigint) =>
  `${value < 0n ? '-' : ''}${(value < 0n ? -value : value) / 100n}.${String((value < 0n ? -value : value) % 100n).padStart(2, '0')}`;

/** A fund with a loan paid on time (and a repayment reversed), one restructured, one written off, one at a structure named like a formula. */
async function portfolio(): Promise<{ desk: Desk; loans: string[] }> {
  const desk = await servicingDesk(app);
  const onTime = await disbursedLoan(desk);
  const schedule = await desk.api.get(`/v1/loans/${onTime.id}/schedule`);
  for (const row of (schedule.body.instalments as { due_date: string; total: string }[]).slice(
    0,
    3,
  )) {
    expect(
      (await repay(desk, onTime.id, { amount: row.total, value_date: row.due_date })).status,
    ).toBe(201);
  }
  const bounced = await repay(desk, onTime.id, { amount: '888.49', value_date: '2025-05-15' });
  expect(bounced.status).toBe(201);
  expect(
    (
      await desk.api.post(`/v1/loans/${onTime.id}/repayments/${bounced.body.id}/reversal`, {
        reason: 'cheque returned unpaid',
      })
    ).status,
  ).toBe(200);

  const restructured = await disbursedLoan(desk, { principal: '5000.00' });
  expect(
    (await repay(desk, restructured.id, { amount: '444.24', value_date: '2025-02-15' })).status,
  ).toBe(201);
  expect(
    (
      await desk.api.post(`/v1/loans/${restructured.id}/restructurings`, {
        type: 'moratorium',
        effective_date: '2025-04-01',
        periods: 3,
        deferral_type: 'total',
        reason: 'Baisse d’activité',
      })
    ).status,
  ).toBe(201);

  const writtenOff = await disbursedLoan(desk, { principal: '2000.00' });
  expect(
    (
      await desk.api.post(`/v1/loans/${writtenOff.id}/write-off`, {
        date: '2025-04-01',
        reason: 'liquidation',
      })
    ).status,
  ).toBe(200);

  const extended = await disbursedLoan(desk, { principal: '4000.00' }); // never paid: its arrears capitalised
  expect(
    (
      await desk.api.post(`/v1/loans/${extended.id}/restructurings`, {
        type: 'extension',
        effective_date: '2025-05-01',
        remaining_periods: 11,
        capitalise_arrears: true,
        reason: 'Arriérés',
      })
    ).status,
  ).toBe(201);

  const formulaStructure = await createStructure(app, desk.fund.id, desk.manager.secret, {
    legal_name: FORMULA,
  });
  const late = await disbursedLoan(
    { ...desk, structure: formulaStructure },
    { principal: '3000.00' },
  );
  return { desk, loans: [onTime.id, restructured.id, writtenOff.id, extended.id, late.id] };
}

/** The ZIP's entries, by name. */
function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, file) => {
      if (error || !file) return reject(error);
      const entries = new Map<string, Buffer>();
      file.on('entry', (entry: yauzl.Entry) =>
        file.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const parts: Buffer[] = [];
          stream.on('data', (part: Buffer) => parts.push(part));
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(parts));
            file.readEntry();
          });
        }),
      );
      file.on('end', () => resolve(entries));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

const rowsOf = (bytes: Buffer): Record<string, string>[] =>
  parse(bytes, { columns: true, record_delimiter: '\r\n' });

const binary = (res: request.Response, done: (error: Error | null, body: Buffer) => void) => {
  const parts: Buffer[] = [];
  res.on('data', (part: Buffer) => parts.push(part));
  res.on('end', () => done(null, Buffer.concat(parts)));
};

/**
 * The manifest's audit anchor is the one GET /v1/audit-events/verify gives as of the same instant, and
 * audit_events.csv re-computes it (each chain's last event: stream, seq, hash). Returns the events.
 */
async function expectAuditAnchor(
  files: Map<string, Buffer>,
  manifest: { audit_anchor: { as_of: string; heads: number; digest: string } },
  api: ReturnType<typeof as>,
  atLeastHeads: number,
) {
  const verified = await api.get(
    `/v1/audit-events/verify?fund_id=${(manifest as unknown as { fund_id: string }).fund_id}&as_of=${encodeURIComponent(manifest.audit_anchor.as_of)}`,
  );
  expect(verified.body.anchor).toEqual(manifest.audit_anchor);
  const events = rowsOf(files.get('audit_events.csv')!);
  const heads = new Map<string, Record<string, string>>();
  for (const event of events) heads.set(event.stream!, event);
  const digest = createHash('sha256');
  for (const stream of [...heads.keys()].sort())
    digest.update(`${stream} ${heads.get(stream)!.seq} ${heads.get(stream)!.hash}\n`);
  expect(digest.digest('hex')).toBe(manifest.audit_anchor.digest);
  expect(heads.size).toBe(manifest.audit_anchor.heads);
  expect(heads.size).toBeGreaterThanOrEqual(atLeastHeads);
  if (atLeastHeads === 0) expect(events).toEqual([]);
  return events;
}

describe('the export bundle', () => {
  it('is built from one snapshot, and re-computes to what the API says as of its date', async () => {
    const { desk, loans } = await portfolio();
    const extended = loans[3];
    const auditor = await createKey(app, { role: 'auditor', fund_id: desk.fund.id });
    const asAuditor = as(app, auditor.secret);
    const key = randomUUID();
    const posted = await asAuditor.post(
      '/v1/exports',
      { fund_id: desk.fund.id, as_of: AS_OF },
      { 'Idempotency-Key': key },
    );
    expectContract(posted, 'post', '/v1/exports');
    expect(posted.status).toBe(202);
    expect(posted.headers.location).toBe(`/v1/exports/${posted.body.id}`);
    expect(posted.body).toMatchObject({
      fund_id: desk.fund.id,
      as_of: AS_OF,
      status: 'queued',
      progress: 0,
      download_url: null,
    });
    // Idempotency: the same key and body give the same export back, and no second one.
    const replayed = await asAuditor.post(
      '/v1/exports',
      { fund_id: desk.fund.id, as_of: AS_OF },
      { 'Idempotency-Key': key },
    );
    expect(replayed.status).toBe(202);
    expect(replayed.body.id).toBe(posted.body.id);
    expect(replayed.headers['idempotency-replayed']).toBe('true');

    const early = await asAuditor.get(`/v1/exports/${posted.body.id}/bundle.zip`);
    expectContract(early, 'get', '/v1/exports/{export_id}/bundle.zip');
    expect(early.status).toBe(409);

    // A second, as of today, by the manager: its audit_events.csv holds the events of the story (the anchor leaves out the last 5 seconds).
    const today = await desk.api.post(
      '/v1/exports',
      { fund_id: desk.fund.id },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(today.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 5_500));

    const workers = await startWorkers({
      db,
      redisUrl: 'redis://127.0.0.1:6379',
      logger: pino({ level: 'silent' }),
      reminders: loadConfig({}).reminders,
      queuePrefix: `test-exports-${randomUUID()}`,
      relayIntervalMs: 50,
    });
    try {
      for (const location of [posted.headers.location!, today.headers.location!]) {
        await until(
          async () => (await asAuditor.get(location)).body.status === 'done',
          'the exports to be done',
        );
      }
    } finally {
      await workers.close();
    }
    const done = await asAuditor.get(posted.headers.location!);
    expectContract(done, 'get', '/v1/exports/{export_id}');
    expect(done.body).toMatchObject({
      status: 'done',
      progress: 100,
      attempts: 1,
      error: null,
      download_url: `/v1/exports/${posted.body.id}/bundle.zip`,
    });
    const listed = await asAuditor.get('/v1/exports');
    expectContract(listed, 'get', '/v1/exports');
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([
      posted.body.id,
      today.body.id,
    ]);

    const download = await request(app)
      .get(done.body.download_url)
      .set('Authorization', `Bearer ${auditor.secret}`)
      .buffer(true)
      .parse(binary);
    expectContract(download, 'get', '/v1/exports/{export_id}/bundle.zip');
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="export-${desk.fund.id}-${AS_OF}.zip"`,
    );
    const zip = download.body as Buffer;
    expect(Number(download.headers['content-length'])).toBe(zip.length);
    expect(zip.length).toBe(done.body.size);
    expect(sha256(zip)).toBe(done.body.sha256);
    expect(download.headers.etag).toBe(`"${done.body.sha256}"`);

    const files = await unzip(zip);
    expect([...files.keys()]).toEqual([
      'loans.csv',
      'instalments.csv',
      'repayments.csv',
      'journal.csv',
      'trial_balance.csv',
      'audit_events.csv',
      'manifest.json',
    ]);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(manifest).toMatchObject({ fund_id: desk.fund.id, as_of: AS_OF, generator: { version } });
    for (const file of manifest.files as {
      name: string;
      rows: number;
      bytes: number;
      sha256: string;
    }[]) {
      const bytes = files.get(file.name)!;
      expect({
        name: file.name,
        rows: rowsOf(bytes).length,
        bytes: bytes.length,
        sha256: sha256(bytes),
      }).toEqual(file);
    }
    // Events recorded after the as-of day are not in it: here, all of them (the story is value-dated in 2025, told today).
    await expectAuditAnchor(files, manifest, asAuditor, 0);
    const ofToday = await unzip(
      (
        await request(app)
          .get(`/v1/exports/${today.body.id}/bundle.zip`)
          .set('Authorization', `Bearer ${auditor.secret}`)
          .buffer(true)
          .parse(binary)
      ).body as Buffer,
    );
    const todayEvents = await expectAuditAnchor(
      ofToday,
      JSON.parse(ofToday.get('manifest.json')!.toString('utf8')),
      asAuditor,
      6,
    );
    expect(
      todayEvents
        .filter((event) => event.action === 'export.requested')
        .map((event) => event.entity_id),
    ).toEqual([posted.body.id, today.body.id]);

    // The trial balance, re-computed from journal.csv, is the API's as of the date, and trial_balance.csv says the same.
    const trial = await asAuditor.get(
      `/v1/funds/${desk.fund.id}/ledger/trial-balance?as_of=${AS_OF}`,
    );
    const sums = new Map<string, { debits: bigint; credits: bigint }>();
    for (const line of rowsOf(files.get('journal.csv')!)) {
      const sum = sums.get(line.account!) ?? { debits: 0n, credits: 0n };
      sums.set(line.account!, {
        debits: sum.debits + cents(line.debit!),
        credits: sum.credits + cents(line.credit!),
      });
    }
    const recomputed = (trial.body.accounts as { account: string }[]).map(({ account }) => {
      const sum = sums.get(account) ?? { debits: 0n, credits: 0n };
      return {
        account,
        debits: money(sum.debits),
        credits: money(sum.credits),
        balance: money(sum.debits - sum.credits),
      };
    });
    expect(recomputed).toEqual(trial.body.accounts);
    expect(rowsOf(files.get('trial_balance.csv')!)).toEqual(trial.body.accounts);

    // Each loan, as GET /v1/loans/{id}?as_of= has it; its outstanding principal re-computed from instalments.csv and repayments.csv.
    const tape = new Map(rowsOf(files.get('loans.csv')!).map((row) => [row.loan_id!, row]));
    const instalments = rowsOf(files.get('instalments.csv')!);
    const repayments = rowsOf(files.get('repayments.csv')!);
    expect(repayments.filter((r) => r.reversed === 'true')).toHaveLength(1);
    expect([...tape.keys()].sort()).toEqual([...loans].sort());
    for (const id of loans) {
      const loan = await asAuditor.get(`/v1/loans/${id}?as_of=${AS_OF}`);
      const row = tape.get(id)!;
      expect({
        outstanding_principal: row.outstanding_principal,
        overdue_total: row.overdue_total,
        days_past_due: Number(row.days_past_due),
        principal: row.principal,
      }).toEqual({
        outstanding_principal: loan.body.outstanding_principal,
        overdue_total: loan.body.arrears.overdue_total,
        days_past_due: loan.body.arrears.days_past_due,
        principal: loan.body.principal,
      });
      const schedule = await asAuditor.get(`/v1/loans/${id}/schedule?as_of=${AS_OF}`);
      const lines = instalments.filter((line) => line.loan_id === id);
      expect(
        lines.map(
          ({
            number,
            due_date,
            principal,
            interest,
            total,
            paid_principal,
            paid_interest,
            status,
          }) => ({
            number: Number(number),
            due_date,
            principal,
            interest,
            total,
            paid_principal,
            paid_interest,
            status,
          }),
        ),
      ).toEqual(
        schedule.body.instalments.map(
          ({
            number,
            due_date,
            principal,
            interest,
            total,
            paid_principal,
            paid_interest,
            status,
          }: Record<string, unknown>) => ({
            number,
            due_date,
            principal,
            interest,
            total,
            paid_principal,
            paid_interest,
            status,
          }),
        ),
      );
      // Active: what the current schedule's instalments still owe of principal. Repaid or written off: nothing (the ledger's balance is 0).
      const unpaid = lines.reduce(
        (sum, line) => sum + cents(line.principal!) - cents(line.paid_principal!),
        0n,
      );
      expect(money(row.status === 'active' ? unpaid : 0n)).toBe(loan.body.outstanding_principal);
      // The same from the cash side: principal paid out, plus interest capitalised on instalments due by the date, less the principal
      // standing repayments valued by the date paid back, less what was written off. (Not for a loan whose restructuring capitalised
      // its arrears: those are settled without a repayment; instalments.csv counts them as paid.)
      if (id === extended) continue;
      const standing = repayments.filter((r) => r.loan_id === id && r.reversed === 'false');
      const repaid = standing.reduce(
        (sum, r) => sum + cents(r.allocated_principal!) + cents(r.principal_prepaid!),
        0n,
      );
      const capitalised = lines
        .filter((line) => line.due_date! <= AS_OF)
        .reduce((sum, line) => sum + cents(line.capitalised_interest!), 0n);
      const writtenOff = row.written_off === 'true' ? cents(row.written_off_principal!) : 0n;
      expect(money(cents(row.principal!) + capitalised - repaid - writtenOff)).toBe(
        loan.body.outstanding_principal,
      );
    }
    // The formula cell is text: a leading apostrophe, the rest as it was.
    expect(files.get('loans.csv')!.toString('utf8')).toContain(
      `"'=HYPERLINK(""http://evil.example"",""click"")"`,
    );
    expect([...tape.values()].map((row) => row.structure_name)).toContain(`'${FORMULA}`);
  });

  it("is its fund's: a structure key and another fund's keys get 404; the list is the key's fund's", async () => {
    const desk = await servicingDesk(app);
    const posted = await desk.api.post('/v1/exports', { fund_id: desk.fund.id, as_of: AS_OF });
    expect(posted.status).toBe(202);
    const partner = as(
      app,
      (
        await createKey(app, {
          role: 'structure',
          fund_id: desk.fund.id,
          structure_id: desk.structure.id,
        })
      ).secret,
    );
    const stranger = (await servicingDesk(app)).api;
    for (const api of [partner, stranger]) {
      const asked = await api.post('/v1/exports', { fund_id: desk.fund.id, as_of: AS_OF });
      expectContract(asked, 'post', '/v1/exports');
      expect(asked.status).toBe(404);
      for (const path of [
        `/v1/exports/${posted.body.id}`,
        `/v1/exports/${posted.body.id}/bundle.zip`,
        `/v1/exports?fund_id=${desk.fund.id}`,
      ]) {
        expect({ path, status: (await api.get(path)).status }).toEqual({ path, status: 404 });
      }
    }
    expect((await stranger.get('/v1/exports')).body.items).toEqual([]);
    const future = await desk.api.post('/v1/exports', {
      fund_id: desk.fund.id,
      as_of: '2999-01-01',
    });
    expectContract(future, 'post', '/v1/exports');
    expect(future.status).toBe(422);
  });

  it('an export no worker finished gets a new job an hour on, and is given up after a day', async () => {
    const desk = await servicingDesk(app);
    const lost = await desk.api.post('/v1/exports', { fund_id: desk.fund.id, as_of: AS_OF });
    const abandoned = await desk.api.post('/v1/exports', {
      fund_id: desk.fund.id,
      as_of: '2025-05-31',
    });
    expect(await requeueStalledExports(db)).toMatchObject({ queued: 0 }); // asked for just now: its job may still come
    await sql`UPDATE exports SET created_at = now() - interval '2 hours' WHERE id = ${lost.body.id}::uuid`.execute(
      db,
    );
    await sql`UPDATE exports SET status = 'running', attempts = 2, started_at = now() - interval '2 hours', created_at = now() - interval '2 days'
      WHERE id = ${abandoned.body.id}::uuid`.execute(db);
    expect(await requeueStalledExports(db)).toEqual({ queued: 1, failed: 1 });
    expect(await requeueStalledExports(db)).toEqual({ queued: 0, failed: 0 }); // one job an hour
    const { rows } = await sql<{
      job_id: string;
      queue: string;
    }>`SELECT job_id, queue FROM outbox WHERE payload->>'export_id' = ${lost.body.id} ORDER BY id`.execute(
      db,
    );
    expect(rows).toEqual([
      { job_id: `export-${lost.body.id}`, queue: 'exports' },
      {
        job_id: expect.stringMatching(new RegExp(`^export-${lost.body.id}-\\d{10}$`)),
        queue: 'exports',
      },
    ]);
    const given = await desk.api.get(`/v1/exports/${abandoned.body.id}`);
    expectContract(given, 'get', '/v1/exports/{export_id}');
    expect(given.body).toMatchObject({
      status: 'failed',
      error: 'no worker finished it after 2 attempts',
    });
  });
});

describe('on PGlite (one connection, which the snapshot holds)', () => {
  it('is built and served all the same', async () => {
    const lite = await connectDatabase({ dataDir: 'memory://' });
    try {
      await migrate(lite);
      const liteApp = createApp({
        logger: pino({ level: 'silent' }),
        db: lite,
        adminKeyHash: hashSecret(ADMIN_KEY),
      });
      const desk = await servicingDesk(liteApp);
      const loan = await disbursedLoan(desk);
      expect(
        (await repay(desk, loan.id, { amount: '888.49', value_date: '2025-02-15' })).status,
      ).toBe(201);
      const posted = await desk.api.post('/v1/exports', { fund_id: desk.fund.id, as_of: AS_OF });
      expect(await buildExport(lite, posted.body.id, true)).toBe('done');
      const done = await desk.api.get(`/v1/exports/${posted.body.id}`);
      const zip = (
        await request(liteApp)
          .get(done.body.download_url)
          .set('Authorization', `Bearer ${desk.manager.secret}`)
          .buffer(true)
          .parse(binary)
      ).body as Buffer;
      expect(sha256(zip)).toBe(done.body.sha256);
      const files = await unzip(zip);
      expect(rowsOf(files.get('loans.csv')!).map((row) => row.outstanding_principal)).toEqual([
        (await desk.api.get(`/v1/loans/${loan.id}?as_of=${AS_OF}`)).body.outstanding_principal,
      ]);
      expect(rowsOf(files.get('repayments.csv')!)).toHaveLength(1);
    } finally {
      await lite.destroy();
    }
  });
});
