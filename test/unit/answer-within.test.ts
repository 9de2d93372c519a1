import { stat } from 'node:fs/promises';
import { answerWithin } from '../../src/db/read-replica';

const stall = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* the event loop is blocked, as under a long GC or a starved CPU */
  }
};

describe('answerWithin (the probes of /readyz and of the read replica)', () => {
  it('gives the answer that arrived while our own event loop was stalled past the timeout', async () => {
    const probe = answerWithin(() => stat(__filename), 20); // one thread-pool call, done during the stall
    stall(150);
    expect(await probe).toMatchObject({ size: expect.any(Number) });
  });

  it('gives undefined for a check that does not answer in time, and for one that fails', async () => {
    expect(await answerWithin(() => new Promise(() => undefined), 20)).toBeUndefined();
    expect(await answerWithin(() => Promise.reject(new Error('refused')), 20)).toBeUndefined();
  });
});
