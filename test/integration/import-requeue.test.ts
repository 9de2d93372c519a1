/**
 * An import whose job was lost (Redis emptied without its file, a worker killed again and again) is
 * queued again an hour on, and given up after six attempts or a day, as reports and exports are.
 */
import type { Express } from 'express';
import { sql } from 'kysely';
import { requeueStalledImports } from '../../src/imports/imports.repository';
import { testApp } from '../support/app';
import { expectContract } from '../support/contract';
import { testDb } from '../support/db';
import { as, fundWithManager, randomSiret } from '../support/portfolio';

let app: Express;
beforeAll(async () => {
  app = await testApp();
});

const structures = () =>
  `legal_name,siret,legal_form,naf_code,commune_code,department_code,region_code,jobs_fte,contact_email\n` +
  `Lost import,${randomSiret()},association,88.99B,69123,69,84,1,lost@example.org\n`;

it('an import no worker finished gets a new job an hour on, and is given up after a day', async () => {
  const db = await testDb();
  const { fund, manager } = await fundWithManager(app);
  const api = as(app, manager.secret);
  const lost = await api.post('/v1/imports', {
    fund_id: fund.id,
    mode: 'commit',
    structures: structures(),
  });
  const abandoned = await api.post('/v1/imports', {
    fund_id: fund.id,
    mode: 'commit',
    structures: structures(),
  });
  expect([lost.status, abandoned.status]).toEqual([202, 202]);
  await requeueStalledImports(db); // others' imports, asked for just now, are left alone; ours too
  await sql`UPDATE imports SET created_at = now() - interval '2 hours' WHERE id = ${lost.body.id}::uuid`.execute(
    db,
  );
  await sql`UPDATE imports SET status = 'running', attempts = 2, rows_done = 1, started_at = now() - interval '2 hours', created_at = now() - interval '2 days'
    WHERE id = ${abandoned.body.id}::uuid`.execute(db);
  expect(await requeueStalledImports(db)).toEqual({ queued: 1, failed: 1 });
  expect(await requeueStalledImports(db)).toEqual({ queued: 0, failed: 0 }); // one job an hour
  const { rows } = await sql<{
    job_id: string;
    queue: string;
  }>`SELECT job_id, queue FROM outbox WHERE payload->>'import_id' = ${lost.body.id} ORDER BY id`.execute(
    db,
  );
  expect(rows).toEqual([
    { job_id: `import-${lost.body.id}`, queue: 'imports' },
    {
      job_id: expect.stringMatching(new RegExp(`^import-${lost.body.id}-\\d{10}$`)),
      queue: 'imports',
    },
  ]);
  const given = await api.get(`/v1/imports/${abandoned.body.id}`);
  expectContract(given, 'get', '/v1/imports/{import_id}');
  expect(given.body).toMatchObject({
    status: 'failed',
    rows_done: 0,
    error: 'no worker finished it after 2 attempts',
  });
});
