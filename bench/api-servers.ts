/**
 * The two servers bench/api.ts compares, in a process of their own so that autocannon does not
 * share their event loop: the full API, and a bare Express route running the one SQL query that
 * reads the same schedule (no validation, no authentication, no status computation).
 */
import express from 'express';
import pino from 'pino';
import { createApp } from '../src/app';
import { connectDatabase } from '../src/db/connect';
import { hashSecret } from '../src/http/auth';

async function serve() {
  const databaseUrl = process.env.BENCH_DATABASE_URL!;
  const adminKey = process.env.BENCH_ADMIN_KEY!;
  const db = await connectDatabase({ databaseUrl, dataDir: '', poolSize: 10 });
  const api = createApp({
    logger: pino({ level: 'silent' }),
    db,
    adminKeyHash: hashSecret(adminKey),
  }).listen(0);

  const bareDb = await connectDatabase({ databaseUrl, dataDir: '', poolSize: 10 });
  const bare = express();
  bare.get('/bare/loans/:loan_id/schedule', async (req, res) => {
    const rows = await bareDb
      .selectFrom('instalments')
      .selectAll()
      .where('loan_id', '=', req.params.loan_id)
      .where('version', '=', (eb) =>
        eb.selectFrom('loans').select('schedule_version').where('id', '=', req.params.loan_id),
      )
      .orderBy('number')
      .execute();
    res.json(rows);
  });
  const bareServer = bare.listen(0);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const port = (server: typeof api) => (server.address() as { port: number }).port;
  process.send!({ api: port(api), bare: port(bareServer) });
  process.on('message', async () => {
    api.close();
    bareServer.close();
    await db.destroy();
    await bareDb.destroy();
    process.exit(0);
  });
}

void serve();
