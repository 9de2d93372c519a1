import cors from 'cors';
import type { Express, RequestHandler } from 'express';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * The only routes a page on a partner portal may call (CORS_ORIGINS): the public loan simulator and
 * what a `structure` key may do, its own structure and its loans read only (test/support/authorization-
 * matrix.ts is the policy), plus the webhook endpoints it registers and the events it lists. Routes
 * for managers, auditors and admins stay closed to other origins: their back offices are not pages
 * on a portal, and a key of theirs has no business in one. GET /v1/funds is left out: it answers a
 * structure key an empty list. Paths as in openapi.yaml.
 */
export const CORS_ROUTES: readonly {
  readonly path: string;
  readonly methods: readonly Method[];
}[] = [
  { path: '/v1/schedules/preview', methods: ['POST'] },
  { path: '/v1/structures', methods: ['GET'] },
  { path: '/v1/structures/{structure_id}', methods: ['GET'] },
  { path: '/v1/loans', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/schedule', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/schedule/versions', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/schedule/versions/{version}', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/repayments', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/repayments/{repayment_id}', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/restructurings', methods: ['GET'] },
  { path: '/v1/loans/{loan_id}/statement', methods: ['GET'] },
  { path: '/v1/reminders', methods: ['GET'] },
  { path: '/v1/webhook-endpoints', methods: ['GET', 'POST'] },
  { path: '/v1/webhook-endpoints/{endpoint_id}', methods: ['GET', 'PATCH', 'DELETE'] },
  { path: '/v1/webhook-endpoints/{endpoint_id}/secret-rotation', methods: ['POST'] },
  { path: '/v1/webhook-endpoints/{endpoint_id}/deliveries', methods: ['GET'] },
  { path: '/v1/events', methods: ['GET'] },
  { path: '/v1/events/{event_id}', methods: ['GET'] },
  { path: '/v1/events/{event_id}/redeliveries', methods: ['POST'] },
  // A portal asks the borrower each year how it is doing (docs/funding.md): the structure key's one write of its own record.
  { path: '/v1/structures/{structure_id}/impact-snapshots', methods: ['GET', 'POST'] },
  { path: '/v1/loans/{loan_id}/funding', methods: ['GET'] }, // a loan's split across the fund's sources, read as the loan is
];

/** What a page may send and read. Keys travel in Authorization, never in cookies: no credentials. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'];
const EXPOSED_HEADERS = [
  'X-Request-Id',
  'Idempotency-Replayed',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'Location',
  'ETag',
];
/** How long a browser may reuse a preflight's answer (seconds); Chromium caps it at 7,200. */
const PREFLIGHT_MAX_AGE = 600;

/**
 * Answers preflights (before authentication: a browser sends no key with them) and marks the
 * responses of CORS_ROUTES readable by pages of the listed origins only. Another origin, or a call
 * with no Origin (a server), gets no CORS header at all and goes on as before; `Vary: Origin` keeps
 * a cache from serving one origin's answer to another.
 */
export function mountCors(app: Express, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  for (const { path, methods } of CORS_ROUTES) {
    const corsHandler = cors({
      origin: (origin, callback) =>
        callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
      methods: [...methods],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      credentials: false,
      maxAge: PREFLIGHT_MAX_AGE,
    });
    const handler: RequestHandler = (req, res, next) => {
      res.vary('Origin');
      corsHandler(req, res, next);
    };
    const route = app.route(path.replace(/\{(\w+)\}/g, ':$1'));
    route.options(handler);
    for (const method of methods) route[method.toLowerCase() as Lowercase<Method>](handler);
  }
}
