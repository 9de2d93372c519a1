import type { Request, RequestHandler } from 'express';
import { httpDuration, httpRequests } from './registry';

/** What a request is labelled with when no route took it: scanners' paths must not become label values. */
export const UNMATCHED = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route template that answered (`/v1/loans/{loan_id}`), written as openapi.yaml writes it: the
 * Express route that matched, else the path the OpenAPI validator matched (a 400 or 405 it gave
 * before any route ran), else "unmatched" — an unknown path, or a request refused before routing
 * (no valid key: 401; a rate limit: 429).
 */
function routeOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === 'string') return (req.baseUrl + route).replace(/:(\w+)/g, '{$1}');
  const validated = (req as { openapi?: { openApiRoute?: unknown } }).openapi?.openApiRoute;
  return typeof validated === 'string' ? validated : UNMATCHED;
}

/**
 * Counts and times every request once it is answered. A request the client gave up on before its
 * answer ended counts with status 499 (nginx's "client closed request"), so that slow requests stay
 * in the latency figures even when the caller stopped waiting.
 */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const stop = httpDuration.startTimer();
    const done = () => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const labels = {
        route: routeOf(req),
        method: METHODS.has(req.method) ? req.method : 'other',
        status_code: res.writableFinished ? String(res.statusCode) : '499',
      };
      httpRequests.inc(labels);
      stop(labels);
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
