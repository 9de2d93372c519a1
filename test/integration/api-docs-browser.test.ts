import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import request from 'supertest';
import YAML from 'yaml';
import { OPENAPI_PATH } from '../../src/http/openapi';
import { ADMIN_KEY, testApp } from '../support/app';
import { expectContract } from '../support/contract';

/**
 * GET /docs as a person reads it: Debian's Chromium, headless, opens the page the service serves
 * (Swagger UI, its assets served by the service, offline), on a real port over the test database.
 * Never skipped: without Chromium this fails, saying how to install it (.ci/run does).
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = 'test/output';

/** The little of the DOM the page's scripts touch here (tsconfig has no DOM library: this is a Node project). */
interface Violation {
  violatedDirective: string;
  blockedURI: string;
}
declare const document: {
  body: { innerText: string };
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
  addEventListener(type: 'securitypolicyviolation', listener: (event: Violation) => void): void;
};
declare const window: { cspViolations?: string[] };

interface Operation {
  summary?: string;
}
const spec = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
/** Every operation of openapi.yaml, read now: what the page must show for it (its summary; each has one, see openapi-examples.test.ts). */
const OPERATIONS = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.has(method))
    .map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      shows: operation.summary ?? `(no summary) ${method} ${path}`,
    })),
);

let app: Express;
let server: Server;
let browser: Browser;
let origin: string;
/** What the API saw: method, path and whether the admin's key came with it. */
const seen: { line: string; withAdminKey: boolean }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`,
    );
  app = await testApp();
  server = createServer((req, res) => {
    seen.push({
      line: `${req.method} ${req.url}`,
      withAdminKey: req.headers.authorization === `Bearer ${ADMIN_KEY}`,
    });
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // headless: true is --headless=new in puppeteer 24; --no-sandbox as the tests run as root
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

/** Opens a page that records whatever went wrong: failed requests, answers ≥ 400, console errors, CSP violations. */
async function watchedPage(): Promise<{ page: Page; problems: string[]; requested: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const problems: string[] = [];
  const requested: string[] = [];
  page.on('request', (req) => requested.push(req.url()));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`answer ${res.status()}: ${res.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  await page.evaluateOnNewDocument(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) =>
      window.cspViolations!.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  return { page, problems, requested };
}

const collapse = (text: string) => text.replaceAll('\u200b', '').replace(/\s+/g, ' ');

it('shows every operation of openapi.yaml, loads nothing from elsewhere, breaks no rule of its CSP, and "Try it out" works with a key', async () => {
  const { page, problems, requested } = await watchedPage();
  await page.goto(`${origin}/docs`);
  // docExpansion "list": every tag open, every operation's summary line on the page
  await page.waitForFunction(
    (count: number) => document.querySelectorAll('.opblock-tag-section .opblock').length >= count,
    { timeout: 15_000 },
    OPERATIONS.length,
  );
  const text = collapse(await page.evaluate(() => document.body.innerText));
  expect(
    OPERATIONS.filter((operation) => !text.includes(collapse(operation.shows))).map(
      (operation) => operation.name,
    ),
  ).toEqual([]);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/api-docs.png` });

  // Authorize with the admin's key, then "Try it out" on GET /v1/funds (deep link: #/funds/listFunds)
  await page.click('.auth-wrapper button.authorize');
  await page.type('.modal-ux input[aria-label="auth-bearer-value"]', ADMIN_KEY);
  await page.click('.modal-ux button.modal-btn.authorize');
  await page.click('.modal-ux button.btn-done');
  await page.click('#operations-funds-listFunds button.opblock-summary-control');
  await page.click('#operations-funds-listFunds button.try-out__btn');
  await page.click('#operations-funds-listFunds button.execute');
  const status = await page.waitForFunction(
    () =>
      document.querySelector(
        '#operations-funds-listFunds .live-responses-table tr.response .response-col_status',
      )?.textContent,
    { timeout: 5_000 },
  );
  expect(await status.jsonValue()).toBe('200');
  expect(seen.filter((call) => call.line.startsWith('GET /v1/funds'))).toEqual([
    { line: expect.stringMatching(/^GET \/v1\/funds(\?|$)/), withAdminKey: true },
  ]);
  expect(page.url()).toBe(`${origin}/docs#/funds/listFunds`);

  expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
  expect(problems).toEqual([]);
  expect(
    requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:')),
  ).toEqual([]);
  await page.close();
}, 60_000); // 17 to 24 s where this was written, on 2 cores shared with five other test runs

describe('over HTTP', () => {
  it('serves the page without a key, its scripts as scripts, and a CSP that allows no inline code', async () => {
    const page = await request(app).get('/docs');
    expect(page.status).toBe(200);
    expectContract(page, 'get', '/docs');
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-|\*/);
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts).toEqual([
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/swagger-initializer.js',
    ]);
    expect(page.text).not.toMatch(/<script>|<style|style=/); // nothing inline
    for (const script of scripts) {
      const res = await request(app).get(script);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^(text|application)\/javascript/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it("keeps the JSON API's strict policy everywhere else", async () => {
    for (const path of ['/healthz', '/openapi.yaml', '/docs/assets/swagger-ui-bundle.js']) {
      expect((await request(app).get(path)).headers['content-security-policy']).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
    }
    const api = await request(app).get('/v1/funds').set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(api.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
  });

  it('answers unknown paths outside /v1/ with a 404 problem, key or none; under /v1/ no key is a 401 whatever the path', async () => {
    for (const path of [
      '/docs/nope',
      '/favicon.ico',
      '/',
      '/docs/assets/index.html',
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/..%2fpackage.json',
    ]) {
      const res = await request(app).get(path);
      expect([path, res.status, res.headers['content-type']]).toEqual([
        path,
        404,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect(res.body).toMatchObject({ status: 404, type: '/problems/not-found' });
    }
    for (const path of ['/v1/nope', '/V1/funds', '/v1']) {
      const res = await request(app).get(path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });
});
