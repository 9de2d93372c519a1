/**
 * The partners' endpoints of `npm run bench:events`, in a process of their own (so that they do not
 * share an event loop with the dispatcher they measure): five HTTP servers, one slow, one failing
 * half the time. Each records the deliveries it took (a 2xx): event id, loan id, when. Driven by IPC:
 * 'reset' forgets, 'report' sends what was taken.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Taken {
  event: string;
  loan: string | null;
  at: number;
}

const KINDS = [
  { name: 'fast-1', answer: () => ({ status: 200, delayMs: 0 }) },
  { name: 'fast-2', answer: () => ({ status: 200, delayMs: 0 }) },
  { name: 'fast-3', answer: () => ({ status: 200, delayMs: 0 }) },
  { name: 'slow', answer: () => ({ status: 200, delayMs: 5 }) },
  { name: 'flaky', answer: () => ({ status: Math.random() < 0.5 ? 503 : 200, delayMs: 0 }) },
];

const taken = new Map<string, Taken[]>(KINDS.map((kind) => [kind.name, []]));
let posts = 0;

const servers: Server[] = KINDS.map((kind) =>
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts += 1;
      const { status, delayMs } = kind.answer();
      const reply = () => {
        if (status === 200) {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            id: string;
            loan_id: string | null;
          };
          taken.get(kind.name)!.push({ event: body.id, loan: body.loan_id, at: Date.now() });
        }
        res.writeHead(status).end();
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  }),
);

Promise.all(
  servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))),
).then(() => {
  process.send!({
    ports: Object.fromEntries(
      KINDS.map((kind, i) => [kind.name, (servers[i]!.address() as AddressInfo).port]),
    ),
  });
});

process.on('message', (message: string) => {
  if (message === 'reset') {
    for (const list of taken.values()) list.length = 0;
    posts = 0;
    process.send!({ reset: true });
  } else if (message === 'report') {
    process.send!({ taken: Object.fromEntries(taken), posts });
  } else if (message === 'count') {
    process.send!({ count: [...taken.values()].reduce((sum, list) => sum + list.length, 0) });
  } else if (message === 'exit') {
    for (const server of servers) server.close();
    process.exit(0);
  }
});
