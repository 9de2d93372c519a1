import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { scrapePage, type ScrapeSources } from './collectors';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` in Prometheus's text format, on a listener of its own (never the API's port, keys
 * or rate limits): `host` is 127.0.0.1 unless the operator opens it (0.0.0.0 in a container).
 * Anything else answers 404. Rejects if it cannot listen (the port taken, say).
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  sources: ScrapeSources;
  logger: Logger;
}): Promise<MetricsServer> {
  const page = scrapePage(options.sources);
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    page.render().then(
      (text) => {
        res
          .writeHead(200, { 'Content-Type': page.contentType, 'Cache-Control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics: the scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new Error(`metrics: cannot listen on ${options.host}:${options.port}: ${error.message}`),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ host: options.host, port }, 'metrics served at /metrics');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
