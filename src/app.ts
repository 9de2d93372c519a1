import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { accessRouter } from './access/access.routes';
import { findActor } from './access/find-actor';
import { auditRouter } from './audit/audit.routes';
import type { Db } from './db/connect';
import type { ReadReplica } from './db/read-replica';
import { findVisibleFund } from './funds/find-visible-fund';
import { fundsRouter } from './funds/funds.routes';
import { importBodyParser, importsRouter } from './imports/imports.routes';
import { apiDocs } from './http/api-docs';
import { authenticate, isApiPath } from './http/auth';
import { rejectUnstorableStrings, verifyJsonStructure } from './http/body';
import { todayInParis, type Today } from './http/clock';
import { mountCors } from './http/cors';
import { OPENAPI_PATH, openApiValidator } from './http/openapi';
import { notFoundHandler, problemHandler } from './http/problem';
import {
  DEFAULT_RATE_LIMITS,
  limitPerAddress,
  rateLimiters,
  type RateLimitSettings,
} from './http/rate-limit';
import { readinessHandler } from './http/readiness';
import { requestLogger } from './http/request-id';
import { securityHeaders } from './http/security-headers';
import { ledgerRouter } from './ledger/ledger.routes';
import { loansRouter } from './loans/loans.routes';
import { httpMetrics } from './metrics/http-metrics';
import { productsRouter } from './products/products.routes';
import { remindersRouter } from './reminders/reminders.routes';
import { reportsRouter } from './reports/reports.routes';
import { stateAidRouter } from './state-aid/state-aid.routes';
import { exportsRouter } from './exports/exports.routes';
import { schedulesRouter } from './schedules/schedules.routes';
import { servicingRouter } from './servicing/servicing.routes';
import { structuresRouter } from './structures/structures.routes';
import { eventsRouter } from './events/events.routes';
import { impactRouter } from './impact/impact.routes';
import { fundingRouter } from './funding/funding.routes';
import { STRICT_OUTBOUND, type OutboundPolicy } from './http/outbound';
import { webhooksRouter } from './webhooks/webhooks.routes';
// issue 15, territories (h-terr)
import { territoriesRouter } from './territories/territories.routes';

/** Open to anyone: the loan simulator (partner portals and fund websites call it without a key). */
const PUBLIC_PATHS = new Set(['/v1/schedules/preview']);

export interface AppDeps {
  readonly logger: Logger;
  readonly db: Db;
  /** Where the heavy reads that tolerate a few seconds' lag go (docs/read-replica.md): the read replica, `db` unless given. */
  readonly reads?: Db;
  /** The read replica behind `reads`, for /readyz. */
  readonly replica?: ReadReplica;
  /** SHA-256 of ADMIN_API_KEY; without it no admin can call the API. */
  readonly adminKeyHash: string | undefined;
  /** Redis, for /readyz to report on and the rate limits' counters (the queues' own connections are the workers'). */
  readonly redis?: Redis;
  /** DEFAULT_RATE_LIMITS unless given. */
  readonly rateLimits?: RateLimitSettings;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For gives req.ip (none unless given). */
  readonly trustProxy?: false | number | string;
  /** Which webhook URLs may be registered: STRICT_OUTBOUND unless given. */
  readonly outbound?: OutboundPolicy;
  /** Origins of the partner portals whose pages may call the routes of CORS_ROUTES (none unless given). */
  readonly corsOrigins?: readonly string[];
  /** The routes' "today" (default as_of, "not in the future"): the date in Europe/Paris unless given. */
  readonly today?: Today;
}

/** The top of the house: plumbing, the public routes, then every feature's router behind its API key. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);
  const limiters = rateLimiters(deps.rateLimits ?? DEFAULT_RATE_LIMITS, deps.redis);
  app.use(httpMetrics()); // first: it times and counts every answer, a 401 or a 404 included
  app.use(requestLogger(deps.logger));
  app.use(securityHeaders());
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', readinessHandler(deps.db, deps.redis, deps.replica));
  // Before the keys and the limits: a preflight carries no key, and a 401 or 429 must reach the page readable.
  mountCors(app, deps.corsOrigins ?? []);
  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').sendFile(OPENAPI_PATH);
  });
  app.use(apiDocs());
  // Keys are asked for under /v1/ only: any other path not served above is a 404, key or none.
  app.use((req, res, next) => (isApiPath(req.path) ? next() : notFoundHandler(req, res, next)));
  // Who is calling comes before what they send: a request without a valid key gets a 401, never a
  // 400, whatever its body (the body is not even read). The public preview counts per address.
  app.post('/v1/schedules/preview', limitPerAddress(limiters.previewPerAddress));
  app.use(
    authenticate({
      adminKeyHash: deps.adminKeyHash,
      lookup: (hash) => findActor(deps.db, hash),
      publicPaths: PUBLIC_PATHS,
      limiters,
    }),
  );
  app.post('/v1/imports', importBodyParser()); // CSV files as JSON strings: a larger limit for this route only
  app.use(
    express.json({
      limit: '100kb',
      type: ['application/json', 'application/*+json'],
      verify: verifyJsonStructure,
    }),
  );
  app.use(rejectUnstorableStrings);
  app.use(openApiValidator());
  app.use(schedulesRouter());
  const outbound = deps.outbound ?? STRICT_OUTBOUND;
  const reads = deps.reads ?? deps.db;
  const today = deps.today ?? todayInParis;
  app.use(fundsRouter(deps.db, outbound));
  app.use(productsRouter(deps.db, reads));
  app.use(structuresRouter(deps.db, reads, outbound));
  app.use(loansRouter(deps.db, reads, today));
  app.use(servicingRouter(deps.db, today));
  app.use(ledgerRouter(deps.db, reads, today));
  app.use(accessRouter(deps.db));
  app.use(auditRouter(deps.db, reads, findVisibleFund));
  app.use(remindersRouter(deps.db, reads, today));
  app.use(reportsRouter(deps.db, reads, today));
  app.use(exportsRouter(deps.db, reads, today));
  app.use(eventsRouter(deps.db));
  app.use(webhooksRouter(deps.db, deps.outbound ?? STRICT_OUTBOUND));
  app.use(importsRouter(deps.db, today));
  // issue 15, territories (h-terr)
  app.use(territoriesRouter(deps.db, reads, today));
  // Issue 15 items 3-4: funding sources, EU indicators, impact snapshots (docs/funding.md).
  app.use(fundingRouter(deps.db, reads));
  app.use(impactRouter(deps.db, reads, today));
  app.use(stateAidRouter(deps.db, today)); // state aid (docs/state-aid.md)
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
