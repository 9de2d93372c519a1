/**
 * One log line per request (pino, JSON): the request id, method, path, status and time, and never
 * the API key, the body or other headers (STYLE.md / brief: logs never hold API keys or contact data).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { hashSecret } from '../../src/http/auth';
import { ADMIN_KEY } from '../support/app';
import { testDb } from '../support/db';

function capturedApp() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return {
    lines,
    build: async () =>
      createApp({
        logger: pino({ level: 'info' }, sink),
        db: await testDb(),
        adminKeyHash: hashSecret(ADMIN_KEY),
      }),
  };
}

describe('the request log', () => {
  it('logs each answered request once, with its id, method, path, status and duration, and nothing of keys or bodies', async () => {
    const { lines, build } = capturedApp();
    const app = await build();
    const email = 'contact-log-test@example.org';
    const res = await request(app)
      .post('/v1/structures')
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .set('X-Request-Id', 'log-test-1')
      .send({
        fund_id: '00000000-0000-4000-8000-000000000000',
        legal_name: 'Log test',
        contact_email: email,
      });
    expect(res.status).toBe(400);
    await new Promise((resolve) => setImmediate(resolve));
    const mine = lines.filter(
      (line) => (line.req as { id?: string } | undefined)?.id === 'log-test-1',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'log-test-1', method: 'POST', url: '/v1/structures' },
      res: { status: 400 },
    });
    expect(typeof mine[0]!.responseTime).toBe('number');
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(ADMIN_KEY);
    expect(everything).not.toContain(email);
    expect(everything).not.toContain('Log test');
  });

  it('gives a request without a usable X-Request-Id a fresh one, logged and echoed', async () => {
    const { lines, build } = capturedApp();
    const app = await build();
    const res = await request(app).get('/healthz').set('X-Request-Id', 'not acceptable: spaces');
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((line) => (line.req as { id?: string }).id === id)).toHaveLength(1);
  });
});
