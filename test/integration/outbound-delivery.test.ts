/**
 * postJson against servers in the test's process: what a partner's URL cannot make the service do
 * (reach our own networks through a name, follow a redirect, hold a delivery slot, fill its memory).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson, STRICT_OUTBOUND } from '../../src/http/outbound';
import { LOCAL_RECEIVERS } from '../support/app';
import { webhookReceiver } from '../support/receivers';

const opened: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(opened.map((s) => s.close())));

/** A server on 127.0.0.1 answering with `handle`, counting the connections it gets. */
async function localServer(handle: Parameters<typeof createServer>[1] = (_req, res) => res.end()) {
  const server = createServer(handle);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  opened.push({ close });
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close };
}

async function receiver(answer?: Parameters<typeof webhookReceiver>[0]) {
  const made = await webhookReceiver(answer);
  opened.push(made);
  return made;
}

const loopbackName = async () => [{ address: '127.0.0.1', family: 4 }];

describe('with the strict policy, the address is checked when connecting', () => {
  it('a name that resolves to 127.0.0.1 is refused, and the server there hears nothing', async () => {
    const local = await localServer();
    const outcome = await postJson(
      `https://hooks.partner.test:${local.port}/x?token=s3cr3t`,
      '{}',
      {},
      { policy: STRICT_OUTBOUND, timeoutMs: 2_000, lookup: loopbackName },
    );
    expect(outcome).toMatchObject({
      statusCode: null,
      error: 'refused: resolves to a private address',
    });
    expect(local.connections()).toBe(0);
  });

  it('a name with one public and one private address is refused too (either could be the one connected to)', async () => {
    const local = await localServer();
    const lookup = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '::ffff:10.0.0.7', family: 6 },
    ];
    const outcome = await postJson(
      `https://hooks.partner.test:${local.port}/x`,
      '{}',
      {},
      { policy: STRICT_OUTBOUND, timeoutMs: 2_000, lookup },
    );
    expect(outcome.error).toBe('refused: resolves to a private address');
    expect(local.connections()).toBe(0);
  });

  it('plain http or a private address in the URL is refused before anything is sent', async () => {
    const local = await localServer();
    const outcome = await postJson(
      `http://127.0.0.1:${local.port}/x?token=s3cr3t`,
      '{}',
      {},
      { policy: STRICT_OUTBOUND, timeoutMs: 2_000 },
    );
    expect(outcome).toEqual({
      statusCode: null,
      durationMs: 0,
      error: 'refused: must be an https URL',
    });
    expect(local.connections()).toBe(0);
  });
});

describe('what a receiver answers', () => {
  it('with insecure delivery allowed, a local http receiver gets the body and the headers: a 2xx has no error', async () => {
    const hooks = await receiver(() => ({ status: 204 }));
    const body = JSON.stringify({ type: 'reminder.before_due', data: { amount_due: '120.50' } });
    const outcome = await postJson(
      hooks.url,
      body,
      { 'webhook-id': 'rem_1', 'webhook-signature': 'v1,abc' },
      { policy: LOCAL_RECEIVERS, timeoutMs: 2_000 },
    );
    expect(outcome).toMatchObject({ statusCode: 204, error: null });
    expect(hooks.calls).toHaveLength(1);
    expect(hooks.calls[0]!.body).toBe(body);
    expect(hooks.calls[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'rem_1',
      'webhook-signature': 'v1,abc',
    });
  });

  it('a redirect is not followed: the receiver it points to gets nothing', async () => {
    const elsewhere = await receiver();
    const redirecting = await localServer((_req, res) =>
      res.writeHead(302, { location: elsewhere.url }).end(),
    );
    const outcome = await postJson(
      `http://127.0.0.1:${redirecting.port}/hook`,
      '{}',
      {},
      { policy: LOCAL_RECEIVERS, timeoutMs: 2_000 },
    );
    expect(outcome).toMatchObject({ statusCode: 302, error: 'redirect not followed (HTTP 302)' });
    expect(elsewhere.calls).toHaveLength(0);
  });

  it.each([
    [500, 'answered HTTP 500'],
    [410, 'answered HTTP 410 Gone'],
    [404, 'answered HTTP 404'],
  ])('HTTP %i is a failed attempt: %s', async (status, error) => {
    const hooks = await receiver(() => ({ status }));
    expect(
      await postJson(hooks.url, '{}', {}, { policy: LOCAL_RECEIVERS, timeoutMs: 2_000 }),
    ).toMatchObject({ statusCode: status, error });
  });

  it('a receiver that does not answer in time is cut at timeoutMs', async () => {
    const hooks = await receiver(() => ({ status: 200, delayMs: 3_000 }));
    const outcome = await postJson(
      hooks.url,
      '{}',
      {},
      { policy: LOCAL_RECEIVERS, timeoutMs: 300 },
    );
    expect(outcome).toMatchObject({ statusCode: null, error: 'did not answer within 300 ms' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(2_000);
  });

  it('an endless answer is read up to maxResponseBytes, then the connection is dropped', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const endless = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (!res.destroyed && written < 1024 ** 3 && res.write(chunk)) written += chunk.length;
        if (!res.destroyed && written < 1024 ** 3) res.once('drain', pump);
      };
      pump();
    });
    const outcome = await postJson(
      `http://127.0.0.1:${endless.port}/hook`,
      '{}',
      {},
      { policy: LOCAL_RECEIVERS, timeoutMs: 20_000, maxResponseBytes: 16 * 1024 },
    );
    expect(outcome).toMatchObject({ statusCode: 200, error: null });
    expect(outcome.durationMs).toBeLessThan(2_000); // cut by its size, not by the 20 s
    expect(written).toBeLessThan(64 * 1024 ** 2); // the socket's buffers at most, nowhere near the gigabyte
  });

  it('a closed port is unreachable, and no error repeats the URL', async () => {
    const gone = await localServer();
    await gone.close();
    const outcome = await postJson(
      `http://127.0.0.1:${gone.port}/hook?token=s3cr3t`,
      '{}',
      {},
      { policy: LOCAL_RECEIVERS, timeoutMs: 2_000 },
    );
    expect(outcome).toMatchObject({ statusCode: null, error: 'unreachable (ECONNREFUSED)' });
    expect(outcome.error).not.toContain('s3cr3t');
  });
});
