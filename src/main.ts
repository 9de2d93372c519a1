import pino from 'pino';
import { createApp } from './app';
import { loadConfig } from './config';

const config = loadConfig();
const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
const server = createApp({ logger }).listen(config.port, () => {
  logger.info({ port: config.port }, 'listening');
});

function shutdown(signal: string) {
  logger.info({ signal }, 'shutting down');
  server.close(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
