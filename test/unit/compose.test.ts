/**
 * compose.yaml, checked without a Docker engine (none runs where this is written or in CI): valid
 * against the compose specification's JSON schema, and holding what the schema cannot say.
 *
 * test/fixtures/compose-spec.json is schema/compose-spec.json of github.com/compose-spec/compose-spec
 * at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, copied unchanged.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Ajv from 'ajv'; // the draft-07 class: the schema's $schema is draft-07
import addFormats from 'ajv-formats';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import YAML from 'yaml';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

// Merge keys (`<<: *app`) are YAML 1.1, which Compose reads; the yaml package needs telling.
const composeSpec = JSON.parse(readFileSync('test/fixtures/compose-spec.json', 'utf8')) as object;
const compose = YAML.parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as Compose;
const { postgres, redis, api, worker } = compose.services;

describe('compose.yaml', () => {
  it("is valid against the compose specification's schema, which refuses a misspelt key", () => {
    // strict: false, as the specification's schema uses union types, which Ajv's strict mode refuses.
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    // The schema names draft-07 as https://json-schema.org/draft-07/schema, Ajv knows it as http://…#.
    ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
    const validate = ajv.compile(composeSpec);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    const misspelt = structuredClone(compose);
    (misspelt.services.api as Record<string, unknown>).depend_on = {};
    expect(validate(misspelt)).toBe(false);
  });

  it('runs the four parts, each with a health check, restarted unless stopped', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect([name, service.healthcheck?.test[0]]).toEqual([
        name,
        expect.stringMatching(/^CMD(-SHELL)?$/),
      ]);
      expect([name, service.restart]).toEqual([name, 'unless-stopped']);
    }
    expect(postgres!.image).toBe('postgres:17');
    expect(redis!.image).toBe('redis:7');
  });

  it('keeps Redis append-only and never evicting (the worker refuses it otherwise)', () => {
    const flags = redis!.command!.join(' ');
    expect(flags).toMatch(/--appendonly yes\b/);
    expect(flags).toMatch(/--maxmemory-policy noeviction\b/);
  });

  it('gives each store a named volume at its data directory', () => {
    expect(postgres!.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']); // postgres:17's PGDATA
    expect(redis!.volumes).toEqual(['redis-data:/data']); // where redis:7 writes its append-only file
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('builds the API and the worker from the Dockerfile, the worker running dist/workers/main.js', () => {
    for (const service of [api!, worker!])
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/COPY workers \.\/workers/);
    expect(worker!.command).toEqual(['node', 'dist/workers/main.js']);
    expect(api!.command).toBeUndefined(); // the Dockerfile's CMD, the API
  });

  it('starts the API and the worker once the stores are healthy, the worker after the API (which migrates)', () => {
    expect(api!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(worker!.depends_on).toEqual({
      ...api!.depends_on,
      api: { condition: 'service_healthy' },
    });
  });

  it('wires the stores to the services, requires ADMIN_API_KEY from the caller and publishes the port the API checks', () => {
    for (const service of [api!, worker!]) {
      expect(service.environment!.DATABASE_URL).toMatch(
        /^postgres:\/\/loans:[^@]+@postgres:5432\/loans$/,
      );
      expect(service.environment!.REDIS_URL).toBe('redis://redis:6379');
    }
    expect(postgres!.healthcheck!.test).toEqual(
      expect.arrayContaining(['-U', 'loans', '-d', 'loans']),
    );
    expect(api!.environment!.ADMIN_API_KEY).toMatch(/^\$\{ADMIN_API_KEY:\?.+\}$/);
    expect(worker!.environment!.ADMIN_API_KEY).toBeUndefined();
    expect(api!.ports).toEqual(['3000:3000']);
    expect(api!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:3000/readyz');
  });

  it('gives the API and the worker only variables that src/config.ts reads', () => {
    const source = readFileSync('src/config.ts', 'utf8');
    // `env.NAME`, `env['NAME']` and the helpers' `(env, 'NAME', …)`
    const read = new Set(
      [
        ...source.matchAll(
          /\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*'([A-Z][A-Z0-9_]*)'\s*\]|,\s*'([A-Z][A-Z0-9_]*)')/g,
        ),
      ].map((m) => m[1] ?? m[2] ?? m[3]),
    );
    expect([...read]).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'REDIS_URL',
        'ADMIN_API_KEY',
        'JOB_LOCK_MS',
        'WEBHOOK_TIMEOUT_MS',
      ]),
    );
    const given = [...Object.keys(api!.environment!), ...Object.keys(worker!.environment!)];
    expect(given.filter((name) => !read.has(name))).toEqual([]);
  });
});

describe("the worker's health check", () => {
  const check = worker!.healthcheck!.test;
  const run = (env: Record<string, string>) =>
    promisify(execFile)(check[1]!, check.slice(2), {
      env: { PATH: process.env.PATH, ...env },
      timeout: 10_000,
    }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );

  it('passes while PostgreSQL answers a query and Redis a PING, and fails, within its timeout, when either does not', async () => {
    expect(check.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const databaseUrl = process.env.TEST_DATABASE_URL!;
    // a port that accepts connections and never answers: the check's own timer must end it
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      expect(await run({ DATABASE_URL: databaseUrl, REDIS_URL: 'redis://127.0.0.1:6379' })).toBe(0);
      expect(await run({ DATABASE_URL: databaseUrl, REDIS_URL: 'redis://127.0.0.1:1' })).toBe(1);
      expect(
        await run({
          DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres',
          REDIS_URL: 'redis://127.0.0.1:6379',
        }),
      ).toBe(1);
      // exit code 1, not killed by run()'s timeout: the check's own timer (3 s, under compose.yaml's 5 s) ended it
      const started = Date.now();
      expect(
        await run({
          DATABASE_URL: `postgres://postgres@127.0.0.1:${silentPort}/postgres`,
          REDIS_URL: 'redis://127.0.0.1:6379',
        }),
      ).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    } finally {
      silent.close();
    }
  }, 30_000);
});
