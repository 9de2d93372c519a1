import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import request, { type Response } from 'supertest';
import YAML from 'yaml';
import { loadConfig } from '../../src/config';
import { CORS_ROUTES } from '../../src/http/cors';
import { OPENAPI_PATH } from '../../src/http/openapi';
import { ADMIN_KEY } from '../support/app';
import { MATRIX, isAllowed } from '../support/authorization-matrix';
import { corsApp, portalStory, PREVIEW_TERMS } from '../support/portal';

const PORTAL = 'https://portal.example.org';
const STRANGER = 'https://elsewhere.example.net';

let app: Express;
let story: Awaited<ReturnType<typeof portalStory>>;
beforeAll(async () => {
  app = await corsApp([PORTAL, 'http://localhost:8080']);
  story = await portalStory(app);
});

const preflight = (
  target: Express,
  path: string,
  origin: string,
  method: string,
  headers = 'authorization',
) =>
  request(target)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', method)
    .set('Access-Control-Request-Headers', headers);

const listOf = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

/** No CORS header of any kind: the browser keeps the response from the page. */
function expectNoCors(res: Response): void {
  for (const name of Object.keys(res.headers)) expect(name).not.toMatch(/^access-control-/);
}

describe('a page of a listed portal', () => {
  it("gets its preflight answered without a key: 204, its origin, the path's methods, the headers it may send, no credentials", async () => {
    const res = await preflight(
      app,
      `/v1/loans/${story.loanId}/schedule`,
      PORTAL,
      'GET',
      'authorization,x-request-id',
    );
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(listOf(res.headers['access-control-allow-methods'])).toEqual(['get']);
    expect(listOf(res.headers['access-control-allow-headers'])).toEqual([
      'authorization',
      'content-type',
      'idempotency-key',
      'x-request-id',
    ]);
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(listOf(res.headers.vary)).toContain('origin');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('may POST to the public preview, and send JSON to it', async () => {
    const res = await preflight(app, '/v1/schedules/preview', PORTAL, 'POST', 'content-type');
    expect(res.status).toBe(204);
    expect(listOf(res.headers['access-control-allow-methods'])).toEqual(['post']);
    const simulated = await request(app)
      .post('/v1/schedules/preview')
      .set('Origin', PORTAL)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(PREVIEW_TERMS));
    expect(simulated.status).toBe(200);
    expect(simulated.headers['access-control-allow-origin']).toBe(PORTAL);
  });

  it("reads its loan's schedule with its structure key, and the headers it needs are exposed", async () => {
    const res = await request(app)
      .get(`/v1/loans/${story.loanId}/schedule`)
      .set('Origin', PORTAL)
      .set('Authorization', `Bearer ${story.structureKey}`);
    expect(res.status).toBe(200);
    expect(res.body.loan_id).toBe(story.loanId);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(listOf(res.headers['access-control-expose-headers'])).toEqual([
      'x-request-id',
      'idempotency-replayed',
      'retry-after',
      'ratelimit',
      'ratelimit-policy',
      'location',
      'etag',
    ]);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[\w.:-]+$/);
    // helmet's same-origin CORP stays: it governs no-cors loads (<img>, <script>), not a CORS fetch
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  it('reads a refusal too (401 without a key): the page can tell a missing key from a network error', async () => {
    const res = await request(app).get(`/v1/loans/${story.loanId}/schedule`).set('Origin', PORTAL);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
  });

  it("has preflights answered for the webhook endpoints and events, with each path's methods", async () => {
    const one = await preflight(
      app,
      '/v1/webhook-endpoints/0190aaaa-0000-7000-8000-000000000000',
      PORTAL,
      'PATCH',
      'authorization,content-type',
    );
    expect(one.status).toBe(204);
    expect(listOf(one.headers['access-control-allow-methods'])).toEqual(['get', 'patch', 'delete']);
    const events = await preflight(app, '/v1/events', PORTAL, 'GET');
    expect(listOf(events.headers['access-control-allow-methods'])).toEqual(['get']);
  });
});

describe('what stays closed to pages of other origins', () => {
  it('a page of an unlisted origin gets no CORS header, on its preflight or on its request', async () => {
    const checked = await preflight(app, `/v1/loans/${story.loanId}/schedule`, STRANGER, 'GET');
    expect(checked.status).not.toBe(204);
    expectNoCors(checked);
    const read = await request(app)
      .get(`/v1/loans/${story.loanId}/schedule`)
      .set('Origin', STRANGER)
      .set('Authorization', `Bearer ${story.structureKey}`);
    expect(read.status).toBe(200);
    expectNoCors(read);
    expect(listOf(read.headers.vary)).toContain('origin');
  });

  it("a manager's route gets no CORS header, even from a listed portal", async () => {
    expectNoCors(await preflight(app, '/v1/funds', PORTAL, 'POST', 'authorization,content-type'));
    const created = await request(app)
      .post('/v1/funds')
      .set('Origin', PORTAL)
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'Fonds CORS', region_code: '84', department_codes: ['69'] }));
    expect(created.status).toBe(201);
    expectNoCors(created);
  });

  it('a write on a path a portal may read is not allowed: the preflight names GET only, the POST carries no CORS header', async () => {
    const path = `/v1/loans/${story.loanId}/repayments`;
    expect(
      listOf(
        (await preflight(app, path, PORTAL, 'POST', 'authorization,content-type,idempotency-key'))
          .headers['access-control-allow-methods'],
      ),
    ).toEqual(['get']);
    const posted = await request(app)
      .post(path)
      .set('Origin', PORTAL)
      .set('Authorization', `Bearer ${story.desk.manager.secret}`)
      .set('Content-Type', 'application/json')
      .send('{}');
    expect(posted.status).toBe(400);
    expectNoCors(posted);
  });

  it('without CORS_ORIGINS there is no CORS at all: a preflight needs a key like any request', async () => {
    const closed = await corsApp([]);
    const checked = await preflight(
      closed,
      '/v1/schedules/preview',
      PORTAL,
      'POST',
      'content-type',
    );
    expectNoCors(checked);
    const read = await request(closed)
      .get(`/v1/loans/${story.loanId}/schedule`)
      .set('Origin', PORTAL)
      .set('Authorization', `Bearer ${story.structureKey}`);
    expect(read.status).toBe(200);
    expectNoCors(read);
  });
});

describe('the list of CORS routes', () => {
  const documented = (
    YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    }
  ).paths;
  // Routes a structure key may call that a portal has no use for: an empty list, the operations' own, the reference page, the import templates.
  const LEFT_OUT = [
    'GET /v1/funds',
    'GET /healthz',
    'GET /readyz',
    'GET /openapi.yaml',
    'GET /docs',
    'GET /v1/imports/templates/{kind}.csv',
  ];

  it('is every operation a structure key may call (the authorization matrix), and the public preview', () => {
    const opened = CORS_ROUTES.flatMap(({ path, methods }) =>
      methods.map((method) => `${method} ${path}`),
    ).filter((operation) => operation.split(' ')[1]! in documented);
    const structures = MATRIX.filter((route) => isAllowed(route.own.expect.structure)).map(
      (route) => `${route.method.toUpperCase()} ${route.path}`,
    );
    expect(opened.sort()).toEqual(
      structures.filter((operation) => !LEFT_OUT.includes(operation)).sort(),
    );
  });

  it('names only documented operations, but for the webhook endpoints and events being added', () => {
    for (const { path, methods } of CORS_ROUTES) {
      if (!(path in documented)) expect(path).toMatch(/^\/v1\/(webhook-endpoints|events)(\/|$)/);
      else
        for (const method of methods) expect(documented[path]).toHaveProperty(method.toLowerCase());
    }
  });
});

describe('CORS_ORIGINS', () => {
  it('is a comma list of exact origins, none by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(
      loadConfig({ CORS_ORIGINS: ' https://portal.example.org, http://localhost:8080 ,' })
        .corsOrigins,
    ).toEqual(['https://portal.example.org', 'http://localhost:8080']);
  });

  it('refuses * and anything that is not an origin as a browser sends it, saying what it would take', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(
      /CORS_ORIGINS=\* would let any site's pages/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://portal.example.org/app' })).toThrow(
      /not an origin.*did you mean https:\/\/portal\.example\.org\?/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://Portal.example.org:443' })).toThrow(
      /did you mean https:\/\/portal\.example\.org\?/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'portal.example.org' })).toThrow(
      /CORS_ORIGINS: portal\.example\.org is not an origin/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'ftp://portal.example.org' })).toThrow(/not an origin/);
  });
});
