import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's id: the caller's X-Request-Id if sane, else a fresh UUID; echoed back, logged, audited. */
    id: string;
  }
}

const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/**
 * One log line per request once it is answered (or abandoned), tagged with a request id that is
 * echoed back in X-Request-Id. Only the method, the path, the status and the time taken: bodies may
 * hold contact data and headers hold API keys. (pino-http did this with a child logger built, its
 * bindings serialised, for every request, whether or not anything was logged.)
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    const done = () => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const line = {
        req: { id, method: req.method, url: req.originalUrl },
        res: { status: res.headersSent ? res.statusCode : null },
        responseTime: Math.round(performance.now() - started),
      };
      if (!res.writableFinished) logger.warn(line, 'request aborted');
      else if (res.statusCode >= 500) logger.error(line, 'request failed');
      else logger.info(line, 'request completed');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
