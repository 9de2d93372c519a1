import { isIP } from 'node:net';
import type { WebhookDelivery } from './webhooks/deliver-webhook';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from './http/rate-limit';
import type { OutboundPolicy } from './http/outbound';

/** Everything read from the environment, read once, here. */
export interface Config {
  readonly port: number;
  readonly logLevel: string;
  /** PostgreSQL URL; without it the service runs on an embedded PGlite stored in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  /** A streaming replica of DATABASE_URL for the heavy reads that tolerate a few seconds' lag (docs/read-replica.md). */
  readonly readDatabaseUrl: string | undefined;
  /** The platform administrator's API key (only its hash is kept in memory). */
  readonly adminApiKey: string | undefined;
  /** Redis for the BullMQ queues (the API enqueues through the outbox; the workers run the jobs). */
  readonly redisUrl: string;
  /** Keeps the queues of two deployments sharing one Redis apart (BullMQ's default: "bull"). */
  readonly queuePrefix: string | undefined;
  /**
   * How long a job's lock lasts without renewal: a worker that dies holding a job gives it back to
   * the queue after about this long (BullMQ's lockDuration and stalledInterval).
   */
  readonly jobLockMs: number;
  readonly reminders: ReminderDelivery;
  /** How events go out to webhook endpoints (README "Events and webhooks"); the outbound policy is `outbound`'s. */
  readonly webhooks: Omit<WebhookDelivery, 'policy'>;
  readonly rateLimits: RateLimitSettings;
  /**
   * Express's `trust proxy`: the proxies whose X-Forwarded-For names the client, so that the
   * per-address limits count clients, not the proxy. False: none (the peer is the client).
   */
  readonly trustProxy: false | number | string;
  /** Origins (scheme://host[:port]) whose pages may call the partner portals' routes; none: no CORS. */
  readonly corsOrigins: readonly string[];
  /** Where partners' webhook URLs may lead: https to public addresses only, unless WEBHOOK_ALLOW_INSECURE (development and tests). */
  readonly outbound: OutboundPolicy;
  readonly metrics: MetricsSettings;
}

/** Where GET /metrics is served (docs/metrics.md): nowhere unless a port is given. */
export interface MetricsSettings {
  readonly host: string;
  /** The API process's metrics port (METRICS_PORT). */
  readonly port: number | undefined;
  /** The worker process's (WORKER_METRICS_PORT). */
  readonly workerPort: number | undefined;
}

/** How reminders go out (DOMAIN.md "Reminders"). */
export interface ReminderDelivery {
  /** SMTP server for e-mail reminders (smtp://user:pass@host:587, smtps://…); without it, no e-mail. */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** How long a webhook may take to answer before the attempt counts as failed. */
  readonly webhookTimeoutMs: number;
  /** Attempts per reminder, the first included, and the delay before the first retry (doubling after). */
  readonly attempts: number;
  readonly backoffMs: number;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${env[name]}`);
  return value;
}

/** A hop count, or Express's list of addresses, CIDRs and names ('loopback', 'uniquelocal', …). */
function trustProxy(env: NodeJS.ProcessEnv): false | number | string {
  const value = env.TRUST_PROXY?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true')
    throw new Error(
      "TRUST_PROXY=true would take any client's word for its address: give the number of proxies in front of the API, or their addresses",
    );
  return value;
}

/** Exact origins, written as a browser sends them in Origin: a typo would fail silently, so it fails here. */
function corsOrigins(env: NodeJS.ProcessEnv): readonly string[] {
  const values = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  for (const value of values) {
    if (value === '*' || value === 'null')
      throw new Error(
        `CORS_ORIGINS=${value} would let any site's pages call the API with a key they hold: list the partner portals' origins, as https://portal.example.org`,
      );
    let origin: string | undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') origin = url.origin;
    } catch {
      origin = undefined;
    }
    const hint = origin === undefined ? '' : `: did you mean ${origin}?`;
    if (origin !== value)
      throw new Error(
        `CORS_ORIGINS: ${value} is not an origin as a browser sends it (http(s)://host[:port], lower case, no path, no default port)${hint}`,
      );
  }
  return Object.freeze(values);
}

/** Plain http and our own networks for webhooks: a deliberate 'true', nothing else that looks like it. */
function allowInsecure(env: NodeJS.ProcessEnv): boolean {
  const value = env.WEBHOOK_ALLOW_INSECURE ?? '';
  if (value !== '' && value !== 'true' && value !== 'false')
    throw new Error(`WEBHOOK_ALLOW_INSECURE must be true or false, got ${value}`);
  return value === 'true';
}

function metricsPort(env: NodeJS.ProcessEnv, name: string, apiPort?: number): number | undefined {
  const value = env[name]?.trim() || undefined;
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535)
    throw new Error(`${name} must be a port number (1 to 65535), got ${value}`);
  if (port === apiPort)
    throw new Error(
      `${name}=${value} is the API's own PORT: metrics are served on a listener of their own`,
    );
  return port;
}

/** A bad host would only fail at listen time, with an error naming no setting: it fails here. */
function metricsSettings(env: NodeJS.ProcessEnv, apiPort: number): MetricsSettings {
  const host = env.METRICS_HOST?.trim() || '127.0.0.1';
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))
    throw new Error(
      `METRICS_HOST must be an address or a host name (127.0.0.1, 0.0.0.0, ::), got ${host}`,
    );
  return Object.freeze({
    host,
    port: metricsPort(env, 'METRICS_PORT', apiPort),
    workerPort: metricsPort(env, 'WORKER_METRICS_PORT'),
  });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const adminApiKey = env.ADMIN_API_KEY || undefined;
  if (adminApiKey !== undefined && adminApiKey.length < 24)
    throw new Error('ADMIN_API_KEY must be at least 24 characters long');
  if (env.READ_DATABASE_URL && !env.DATABASE_URL)
    throw new Error(
      'READ_DATABASE_URL names a replica of DATABASE_URL: set DATABASE_URL too (the embedded PGlite has no replica)',
    );
  return Object.freeze({
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR ?? './data/pglite',
    readDatabaseUrl: env.READ_DATABASE_URL || undefined,
    adminApiKey,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    queuePrefix: env.QUEUE_PREFIX || undefined,
    jobLockMs: positiveInteger(env, 'JOB_LOCK_MS', 30_000),
    reminders: Object.freeze({
      smtpUrl: env.SMTP_URL || undefined,
      mailFrom: env.MAIL_FROM || 'reminders@localhost',
      webhookTimeoutMs: positiveInteger(env, 'WEBHOOK_TIMEOUT_MS', 10_000),
      attempts: positiveInteger(env, 'REMINDER_ATTEMPTS', 8),
      backoffMs: positiveInteger(env, 'REMINDER_BACKOFF_MS', 30_000),
    }),
    webhooks: Object.freeze({
      timeoutMs: positiveInteger(env, 'WEBHOOK_TIMEOUT_MS', 10_000),
      backoffMs: positiveInteger(env, 'WEBHOOK_BACKOFF_MS', 10_000),
      maxBackoffMs: positiveInteger(env, 'WEBHOOK_MAX_BACKOFF_MS', 3600_000),
      disableAfterMs: positiveInteger(env, 'WEBHOOK_DISABLE_AFTER_HOURS', 72) * 3600_000,
      concurrency: positiveInteger(env, 'WEBHOOK_CONCURRENCY', 16),
      perEndpoint: positiveInteger(env, 'WEBHOOK_CONCURRENCY_PER_ENDPOINT', 4),
    }),
    rateLimits: Object.freeze({
      authFailuresPerAddress: positiveInteger(
        env,
        'AUTH_FAILURES_PER_ADDRESS',
        DEFAULT_RATE_LIMITS.authFailuresPerAddress,
      ),
      authFailuresPerKeyPrefix: positiveInteger(
        env,
        'AUTH_FAILURES_PER_KEY_PREFIX',
        DEFAULT_RATE_LIMITS.authFailuresPerKeyPrefix,
      ),
      authFailureWindowSeconds: positiveInteger(
        env,
        'AUTH_FAILURE_WINDOW_SECONDS',
        DEFAULT_RATE_LIMITS.authFailureWindowSeconds,
      ),
      previewRequestsPerAddress: positiveInteger(
        env,
        'PREVIEW_REQUESTS_PER_ADDRESS',
        DEFAULT_RATE_LIMITS.previewRequestsPerAddress,
      ),
      previewWindowSeconds: positiveInteger(
        env,
        'PREVIEW_WINDOW_SECONDS',
        DEFAULT_RATE_LIMITS.previewWindowSeconds,
      ),
      // QUEUE_PREFIX keeps two deployments sharing one Redis apart: their counters too.
      redisKeyPrefix: [env.QUEUE_PREFIX, DEFAULT_RATE_LIMITS.redisKeyPrefix]
        .filter(Boolean)
        .join(':'),
    }),
    trustProxy: trustProxy(env),
    corsOrigins: corsOrigins(env),
    outbound: Object.freeze({ allowInsecure: allowInsecure(env) }),
    metrics: metricsSettings(env, port),
  });
}
