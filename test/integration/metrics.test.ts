/**
 * Prometheus metrics (docs/metrics.md): GET /metrics is served on a listener of its own, never on
 * the API's port, and only when a port is given. The API's requests are counted and timed by route
 * template (never the concrete path); the worker's side counts reports computed, reminders and webhook
 * deliveries, and reads its queues and the outbox at scrape time; a PostgreSQL or Redis that does
 * not answer leaves its gauges out, and the scrape still answers at once. On a database of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { connectDatabase, type Db } from '../../src/db/connect';
import { addMonths, type CalendarDate } from '../../src/domain/dates';
import { hashSecret } from '../../src/http/auth';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/metrics-server';
import { connectRedisForProducers, openQueues } from '../../src/queues/redis';
import { startWorkers, type Workers } from '../../workers/start';
import { ADMIN_KEY, LIMITS_OUT_OF_REACH, LOCAL_RECEIVERS } from '../support/app';
import { isolatedDatabase } from '../support/db';
import { freePort } from '../support/own-postgres';
import { webhookReceiver } from '../support/receivers';
import { disbursedLoan, servicingDesk } from '../support/servicing';
import { until } from '../support/until';

jest.setTimeout(90_000);

const silent = pino({ level: 'silent' });
/** The API's "today" (the day of the scans); the workers deliver on the real date, later. */
const SCANNED_ON = '2026-03-16' as CalendarDate;
let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
let db: Db;
let app: Express;
const closing: (() => Promise<unknown>)[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  iso = await isolatedDatabase('metrics');
  db = iso.db;
  app = createApp({
    logger: silent,
    db,
    adminKeyHash: hashSecret(ADMIN_KEY),
    rateLimits: LIMITS_OUT_OF_REACH,
    outbound: LOCAL_RECEIVERS,
    today: () => SCANNED_ON,
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const close of closing.reverse()) await close();
  await iso.drop();
});

async function metricsServer(
  sources: Parameters<typeof startMetricsServer>[0]['sources'],
): Promise<MetricsServer> {
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, sources, logger: silent });
  closing.push(() => server.close());
  return server;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample (its labels exactly these), or undefined if the page has none. */
function sample(
  page: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '')
      .split(/,(?=\w+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

/** How much each sample moved between two pages (absent counts as 0). */
const moved = (before: string, after: string, name: string, labels: Record<string, string> = {}) =>
  (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);

const P = 'solidarity_loans_';

describe('the API side', () => {
  it('counts and times each answer by route template, method and status; an unknown path or a request refused before routing is "unmatched"', async () => {
    const server = await metricsServer({ db });
    const desk = await servicingDesk(app);
    const loan = await disbursedLoan(desk);
    const missing = randomUUID();
    const before = await scrape(server.port);

    expect((await desk.api.get(`/v1/loans/${loan.id}`)).status).toBe(200);
    expect((await desk.api.get(`/v1/loans/${missing}`)).status).toBe(404);
    expect((await request(app).get(`/v1/loans/${loan.id}`)).status).toBe(401);
    expect(
      (
        await request(app)
          .get(`/wp-login.php?id=${missing}`)
          .set('Authorization', `Bearer ${desk.manager.secret}`)
      ).status,
    ).toBe(404);
    expect((await desk.api.get('/v1/loans?status=nonsense')).status).toBe(400);
    const after = await scrape(server.port);

    const loanRoute = { route: '/v1/loans/{loan_id}', method: 'GET' };
    expect(
      moved(before, after, `${P}http_requests_total`, { ...loanRoute, status_code: '200' }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_requests_total`, { ...loanRoute, status_code: '404' }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_requests_total`, {
        route: 'unmatched',
        method: 'GET',
        status_code: '401',
      }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_requests_total`, {
        route: 'unmatched',
        method: 'GET',
        status_code: '404',
      }),
    ).toBe(1);
    // Refused by the OpenAPI validator before the route ran: its matched path names it.
    expect(
      moved(before, after, `${P}http_requests_total`, {
        route: '/v1/loans',
        method: 'GET',
        status_code: '400',
      }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_request_duration_seconds_count`, {
        ...loanRoute,
        status_code: '200',
      }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_request_duration_seconds_bucket`, {
        ...loanRoute,
        status_code: '200',
        le: '+Inf',
      }),
    ).toBe(1);
    expect(
      moved(before, after, `${P}http_request_duration_seconds_sum`, {
        ...loanRoute,
        status_code: '200',
      }),
    ).toBeGreaterThan(0);
    // No concrete path becomes a label value.
    expect(after).not.toContain(loan.id);
    expect(after).not.toContain(missing);
    expect(after).not.toContain('wp-login');

    // The pool, read at scrape time; prom-client's process metrics.
    expect(sample(after, `${P}db_pool_connections_max`)).toBe(5);
    expect(sample(after, `${P}db_pool_connections_idle`)).toBeGreaterThanOrEqual(1);
    expect(sample(after, `${P}db_pool_requests_waiting`)).toBe(0);
    expect(sample(after, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it("is not served on the API's own port", async () => {
    const desk = await servicingDesk(app);
    for (const res of [
      await request(app).get('/metrics'),
      await request(app).get('/metrics').set('Authorization', `Bearer ${desk.manager.secret}`),
    ]) {
      expect([401, 404]).toContain(res.status);
      expect(res.text).not.toContain('http_requests_total');
    }
  });
});

describe('the worker side', () => {
  it('counts reports computed, webhook deliveries and reminders by outcome, and reads the outbox and the queues at scrape time', async () => {
    const running: { workers?: Workers } = {}; // started once the outbox has been looked at
    const server = await metricsServer({ db, queues: () => running.workers?.queues ?? [] });
    const desk = await servicingDesk(app);
    await disbursedLoan(desk);
    const good = await webhookReceiver(() => ({ status: 200 }));
    const bad = await webhookReceiver(() => ({ status: 500 }));
    closing.push(good.close, bad.close);
    for (const url of [good.url, bad.url]) {
      expect(
        (await desk.api.post('/v1/webhook-endpoints', { url, event_types: ['report.completed'] }))
          .status,
      ).toBe(201);
    }
    const before = await scrape(server.port);

    // Asked for, not yet relayed: the report's job waits in the outbox.
    expect(
      (await desk.api.post('/v1/reports', { fund_id: desk.fund.id, as_of: '2025-06-30' })).status,
    ).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiting = await scrape(server.port);
    expect(sample(waiting, `${P}outbox_waiting_jobs`)).toBe(1);
    expect(sample(waiting, `${P}outbox_oldest_age_seconds`)).toBeGreaterThan(0.04);
    expect(sample(waiting, `${P}collector_up`, { collector: 'outbox' })).toBe(1);

    const started = await startWorkers({
      db,
      redisUrl: 'redis://127.0.0.1:6379',
      logger: silent,
      reminders: { ...loadConfig({}).reminders, backoffMs: 100 },
      queuePrefix: `test-metrics-${randomUUID()}`,
      relayIntervalMs: 50,
      outbound: LOCAL_RECEIVERS,
      webhooks: {
        policy: LOCAL_RECEIVERS,
        timeoutMs: 2000,
        backoffMs: 50,
        maxBackoffMs: 200,
        disableAfterMs: 3_600_000,
        concurrency: 4,
        perEndpoint: 2,
      },
    });
    running.workers = started;
    closing.push(async () => {
      await Promise.all(started.queues.map((queue) => queue.obliterate({ force: true })));
      await started.close();
    });
    // A job that fails for good, and one put off: the queue gauges must see Redis, not a guess.
    const reports = started.queues.find((queue) => queue.name === 'reports')!;
    await reports.add('no-such-job', {}, { attempts: 1, jobId: 'metrics-fails' });
    await reports.add('no-such-job', {}, { delay: 600_000, jobId: 'metrics-later' });
    await until(
      () => good.calls.length >= 1 && bad.calls.length >= 2,
      'the report.completed deliveries',
    );
    await until(
      async () =>
        sample(await scrape(server.port), `${P}queue_jobs`, {
          queue: 'reports',
          state: 'failed',
        }) === 1,
      'the failed job counted',
    );
    const after = await scrape(server.port);

    expect(moved(before, after, `${P}reports_computed_total`, { outcome: 'done' })).toBe(1);
    expect(moved(before, after, `${P}report_computation_duration_seconds_count`)).toBe(1);
    expect(moved(before, after, `${P}webhook_deliveries_total`, { outcome: 'delivered' })).toBe(1);
    expect(
      moved(before, after, `${P}webhook_deliveries_total`, { outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(2);
    expect(after).not.toContain(good.url.split('/hooks')[0]); // no endpoint URL in a label
    expect(sample(after, `${P}outbox_waiting_jobs`)).toBe(0);
    expect(sample(after, `${P}outbox_oldest_age_seconds`)).toBe(0);
    expect(sample(after, `${P}queue_jobs`, { queue: 'reports', state: 'delayed' })).toBe(1);
    expect(sample(after, `${P}queue_jobs`, { queue: 'reminders', state: 'waiting' })).toBe(0);
    expect(
      sample(after, `${P}queue_jobs`, { queue: 'maintenance', state: 'active' }),
    ).toBeDefined();
    expect(sample(after, `${P}collector_up`, { collector: 'queues' })).toBe(1);
    // Reminders, after due, to a fund's webhook that fails its first call: counted by channel and by outcome.
    const hooks = await webhookReceiver((n) => ({ status: n === 1 ? 503 : 204 }));
    closing.push(hooks.close);
    const reminded = await servicingDesk(app, 'common_law', { fund: { webhook_url: hooks.url } });
    const disbursed = new Date(`${addMonths(SCANNED_ON, -2)}T00:00:00Z`);
    disbursed.setUTCDate(disbursed.getUTCDate() - 5);
    const late = await disbursedLoan(reminded, {
      disbursement_date: disbursed.toISOString().slice(0, 10),
    });
    expect((await reminded.api.post('/v1/reminders/scan', {})).status).toBe(200);
    const due = (await reminded.api.get(`/v1/reminders?loan_id=${late.id}`)).body
      .items as unknown[];
    expect(due.length).toBeGreaterThanOrEqual(2);
    await until(
      async () =>
        sample(await scrape(server.port), `${P}reminder_deliveries_total`, { outcome: 'sent' }) ===
        due.length,
      'every reminder sent',
    );
    const reminders = await scrape(server.port);
    expect(
      moved(before, reminders, `${P}reminder_channel_deliveries_total`, {
        channel: 'webhook',
        outcome: 'sent',
      }),
    ).toBe(due.length);
    expect(
      moved(before, reminders, `${P}reminder_channel_deliveries_total`, {
        channel: 'webhook',
        outcome: 'failed',
      }),
    ).toBe(1);
    expect(
      sample(reminders, `${P}reminder_channel_deliveries_total`, {
        channel: 'email',
        outcome: 'sent',
      }),
    ).toBeUndefined(); // no SMTP server
  });
});

describe('when PostgreSQL and Redis do not answer', () => {
  it("the scrape still answers 200 within the collectors' time box, their gauges left out and collector_up at 0", async () => {
    // A server that accepts connections and never says a word: what a dead host behind a firewall looks like.
    const held: Socket[] = [];
    const silentServer: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    const port = (silentServer.address() as { port: number }).port;
    closing.push(
      () =>
        new Promise((resolve) => {
          for (const socket of held) socket.destroy();
          silentServer.close(resolve);
        }),
    );
    const deadDb = await connectDatabase({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/nothing`,
      dataDir: '',
      poolSize: 2,
    });
    const { redis, ready } = connectRedisForProducers(`redis://127.0.0.1:${port}`);
    ready.catch(() => undefined);
    const queues = openQueues(redis, { prefix: `test-metrics-${randomUUID()}` });
    closing.push(async () => {
      redis.disconnect();
      await deadDb.destroy().catch(() => undefined);
    });
    const server = await metricsServer({ db: deadDb, queues: () => [queues.get('reports')] });

    for (let k = 0; k < 2; k++) {
      const startedAt = Date.now();
      const page = await scrape(server.port);
      expect(Date.now() - startedAt).toBeLessThan(2500);
      expect(sample(page, `${P}collector_up`, { collector: 'outbox' })).toBe(0);
      expect(sample(page, `${P}collector_up`, { collector: 'queues' })).toBe(0);
      expect(sample(page, `${P}outbox_waiting_jobs`)).toBeUndefined();
      expect(
        sample(page, `${P}queue_jobs`, { queue: 'reports', state: 'waiting' }),
      ).toBeUndefined();
      expect(sample(page, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    }
  });
});

describe('settings', () => {
  it("refuses a port that is not one, or the API's own, naming the setting", () => {
    expect(loadConfig({}).metrics).toEqual({
      host: '127.0.0.1',
      port: undefined,
      workerPort: undefined,
    });
    expect(
      loadConfig({ METRICS_PORT: '9464', WORKER_METRICS_PORT: '9465', METRICS_HOST: '0.0.0.0' })
        .metrics,
    ).toEqual({ host: '0.0.0.0', port: 9464, workerPort: 9465 });
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(
      'METRICS_PORT must be a port number (1 to 65535), got 70000',
    );
    expect(() => loadConfig({ WORKER_METRICS_PORT: '9464x' })).toThrow(
      'WORKER_METRICS_PORT must be a port number (1 to 65535), got 9464x',
    );
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(
      "METRICS_PORT=8080 is the API's own PORT",
    );
    expect(() => loadConfig({ METRICS_HOST: 'http://0.0.0.0' })).toThrow(
      'METRICS_HOST must be an address or a host name',
    );
  });
});

/** The TCP ports a process listens on, from /proc (Linux): its socket inodes matched to LISTEN sockets. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined; // closed meanwhile
        }
      })
      .filter((inode) => inode !== undefined),
  );
  const ports = ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && inodes.has(fields[9]!)) // 0A: LISTEN
      .map((fields) => parseInt(fields[1]!.split(':')[1]!, 16)),
  );
  return [...new Set(ports)].sort();
}

describe('the API process (src/main.ts)', () => {
  async function startApi(env: Record<string, string>) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: `${__dirname}/../..`,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: iso.url,
        REDIS_URL: 'redis://127.0.0.1:6379',
        LOG_LEVEL: 'silent',
        PORT: String(port),
        ...env,
      },
    });
    children.push(child);
    const output = { stderr: '' };
    child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    await until(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200,
      'the API to listen',
      30_000,
      100,
    );
    return { child, port, output };
  }

  it('without METRICS_PORT listens on PORT alone; with it, serves the metrics there and still not on PORT', async () => {
    const plain = await startApi({});
    expect(listeningPorts(plain.child.pid!)).toEqual([plain.port]);
    plain.child.kill('SIGTERM');

    const metricsPort = await freePort();
    const api = await startApi({ METRICS_PORT: String(metricsPort) });
    expect(listeningPorts(api.child.pid!)).toEqual([api.port, metricsPort].sort());
    expect((await fetch(`http://127.0.0.1:${api.port}/healthz`)).status).toBe(200);
    const page = await scrape(metricsPort);
    expect(
      sample(page, `${P}http_requests_total`, {
        route: '/healthz',
        method: 'GET',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(page, `${P}collector_up`, { collector: 'outbox' })).toBe(1);
    expect(page).not.toContain(`${P}queue_jobs`); // with DATABASE_URL the workers, and their queues, are another process's
    const onApiPort = await fetch(`http://127.0.0.1:${api.port}/metrics`);
    expect([401, 404]).toContain(onApiPort.status);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/elsewhere`)).status).toBe(404);
    api.child.kill('SIGTERM');
  });

  it('stops at start, saying why, when its metrics port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: `${__dirname}/../..`,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: iso.url,
        LOG_LEVEL: 'silent',
        PORT: String(port),
        METRICS_PORT: String((taken.address() as { port: number }).port),
      },
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await new Promise<[number | null]>((resolve) =>
      child.on('exit', (exitCode) => resolve([exitCode])),
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `metrics: cannot listen on 127.0.0.1:${(taken.address() as { port: number }).port}: listen EADDRINUSE`,
    );
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)).toBeUndefined(); // the API never listened
  });
});
