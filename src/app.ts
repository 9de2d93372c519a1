import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { OPENAPI_PATH, openApiValidator } from './http/openapi';
import { notFoundHandler, problemHandler } from './http/problem';
import { requestLogger } from './http/request-id';
import { schedulesRouter } from './schedules/schedules.routes';

export interface AppDeps {
  readonly logger: Logger;
}

/** The top of the house: plumbing, then every feature's router, then errors as problem+json. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').sendFile(OPENAPI_PATH);
  });
  app.use(openApiValidator());
  app.use(schedulesRouter());
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
