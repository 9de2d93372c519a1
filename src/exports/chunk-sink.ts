import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';

/** About 1 MB: a chunk is one row of export_chunks, and what the download holds in memory at a time. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * A writable that cuts the bytes written into CHUNK_BYTES chunks and stores each (`store(seq,
 * bytes)`), one at a time: memory holds two chunks, whatever the archive's size. Counts the
 * bytes and hashes them as they pass.
 */
export function chunkSink(store: (seq: number, bytes: Buffer) => Promise<void>) {
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let size = 0;
  let storing: Promise<void> = Promise.resolve();
  // One chunk stored while the next fills: the archive does not wait for each INSERT (two chunks in memory at most).
  const flush = async () => {
    await storing;
    if (pendingBytes === 0) return;
    const bytes = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    storing = store(seq, bytes);
    storing.catch(() => undefined); // awaited by the next flush or by final
    seq += 1;
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < CHUNK_BYTES) return done();
      flush().then(() => done(), done);
    },
    final(done) {
      flush()
        .then(() => storing)
        .then(() => done(), done);
    },
  });
  return { sink, result: () => ({ size, sha256: hash.digest('hex') }) };
}
