/**
 * The API that bench/hostile-requests.ts sends its requests to, in a process of its own so that the
 * CPU it reports (process.cpuUsage, on request over IPC) is the server's alone.
 */
import pino from 'pino';
import { createApp } from '../src/app';
import { connectDatabase } from '../src/db/connect';
import { hashSecret } from '../src/http/auth';
import { DEFAULT_RATE_LIMITS } from '../src/http/rate-limit';

async function serve() {
  const db = await connectDatabase({
    databaseUrl: process.env.BENCH_DATABASE_URL!,
    dataDir: '',
    poolSize: 4,
  });
  // Every request comes from one address: the limits would answer 429 long before the measure ends.
  const rateLimits = {
    ...DEFAULT_RATE_LIMITS,
    authFailuresPerAddress: 1e9,
    authFailuresPerKeyPrefix: 1e9,
    previewRequestsPerAddress: 1e9,
  };
  const server = createApp({
    logger: pino({ level: 'silent' }),
    db,
    adminKeyHash: hashSecret(process.env.BENCH_ADMIN_KEY!),
    rateLimits,
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  process.send!({ port: (server.address() as { port: number }).port });
  process.on('message', async (message: string) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpuMicros: user + system });
      return;
    }
    server.close();
    await db.destroy();
    process.exit(0);
  });
}

void serve();
