import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { corsApp, portalStory, PREVIEW_TERMS } from '../support/portal';

/**
 * CORS as a browser enforces it, not as we read the headers: Debian's Chromium, headless, loads a
 * page from one local port and calls the API on another, as a partner portal would. Never skipped:
 * without Chromium this fails, saying how to install it (.ci/run does).
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = 'test/output/cors-browser.png';

let api: Server;
let portal: Server;
let stranger: Server;
let browser: Browser;
let apiUrl: string;
let portalUrl: string;
let strangerUrl: string;
let story: Awaited<ReturnType<typeof portalStory>>;
/** The little of the DOM the page's script touches (tsconfig has no DOM library: this is a Node project). */
declare const document: { getElementById(id: string): { textContent: string | null } | null };
declare const location: { origin: string };

/** Every request the API saw, to show that the browser sent its preflights. */
const seen: string[] = [];

/** A page server: an empty page, the origin the script runs in. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const pageServer = () =>
  createServer((_req, res) =>
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Portail</title><pre id="out"></pre>'),
  );

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`,
    );
  portal = pageServer();
  stranger = pageServer();
  portalUrl = await listen(portal);
  strangerUrl = await listen(stranger);
  const app = await corsApp([portalUrl]);
  story = await portalStory(app);
  api = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    app(req, res);
  });
  apiUrl = await listen(api);
  // headless: true is --headless=new in puppeteer 24; --no-sandbox as the tests run as root
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(
    [api, portal, stranger].map(
      (server) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))),
    ),
  );
});

async function pageAt(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(origin);
  return page;
}

it("a page of the listed portal reads its loan's schedule with a structure key and simulates a loan; a page elsewhere is blocked", async () => {
  const page = await pageAt(portalUrl);
  const outcome = await page.evaluate(
    async ({ apiUrl, key, loanId, terms }) => {
      const schedule = await fetch(`${apiUrl}/v1/loans/${loanId}/schedule`, {
        headers: { Authorization: `Bearer ${key}` },
      });
      const preview = await fetch(`${apiUrl}/v1/schedules/preview`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(terms),
      });
      const result = {
        schedule: {
          status: schedule.status,
          loanId: ((await schedule.json()) as { loan_id: string }).loan_id,
          requestId: schedule.headers.get('x-request-id'),
        },
        preview: {
          status: preview.status,
          instalment: ((await preview.json()) as { instalment_amount: string }).instalment_amount,
          requestId: preview.headers.get('x-request-id'),
        },
      };
      document.getElementById('out')!.textContent =
        `${location.origin} → ${apiUrl}\n${JSON.stringify(result, null, 2)}`;
      return result;
    },
    { apiUrl, key: story.structureKey, loanId: story.loanId, terms: PREVIEW_TERMS },
  );

  expect(outcome.schedule).toEqual({
    status: 200,
    loanId: story.loanId,
    requestId: expect.stringMatching(/^[\w.:-]+$/),
  });
  expect(outcome.preview).toEqual({
    status: 200,
    instalment: '888.49',
    requestId: expect.stringMatching(/^[\w.:-]+$/),
  });
  // The Authorization and Content-Type headers made both requests preflighted, without a key
  expect(seen).toEqual(
    expect.arrayContaining([
      `OPTIONS /v1/loans/${story.loanId}/schedule`,
      'OPTIONS /v1/schedules/preview',
    ]),
  );
  mkdirSync('test/output', { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  const elsewhere = await pageAt(strangerUrl);
  const blocked = await elsewhere.evaluate(
    async ({ apiUrl, key, loanId }) => {
      try {
        const res = await fetch(`${apiUrl}/v1/loans/${loanId}/schedule`, {
          headers: { Authorization: `Bearer ${key}` },
        });
        return { read: res.status };
      } catch (error) {
        return { name: (error as Error).name, message: (error as Error).message };
      }
    },
    { apiUrl, key: story.structureKey, loanId: story.loanId },
  );
  expect(blocked).toEqual({ name: 'TypeError', message: 'Failed to fetch' });
  // The preflight was refused, so the request itself was never sent: the key never left the page
  expect(seen.filter((line) => line === `GET /v1/loans/${story.loanId}/schedule`)).toHaveLength(1);
}, 60_000);
