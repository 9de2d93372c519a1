import type { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What the manifest says of a file: its data lines, its bytes and their SHA-256, counted as they pass. */
export interface Summary {
  rows: number;
  bytes: number;
  readonly hash: ReturnType<typeof createHash>;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * The lines of a COPY … CSV (src/db/copy-out.ts) after the file's header, as src/exports/write-bundle.ts csvStream writes them:
 * COPY ends a line with LF, ours end with CRLF. A line ends at an LF outside quotes (a quoted
 * field's own line ends stay as they are; a doubled quote toggles twice). Counted and hashed.
 */
export class CopiedLines extends Transform {
  private quoted = false;

  constructor(
    header: Buffer,
    private readonly summary: Summary,
  ) {
    super();
    this.count(header, 0);
    this.push(header);
  }

  private count(bytes: Buffer, rows: number) {
    this.summary.hash.update(bytes);
    this.summary.bytes += bytes.length;
    this.summary.rows += rows;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    const parts: Buffer[] = [];
    let from = 0;
    let at = 0;
    let rows = 0;
    let quote = chunk.indexOf(QUOTE);
    for (;;) {
      if (this.quoted) {
        if (quote === -1) break;
        this.quoted = false;
      } else {
        const end = chunk.indexOf(LF, at);
        if (end !== -1 && (quote === -1 || quote > end)) {
          parts.push(chunk.subarray(from, end), CRLF);
          from = at = end + 1;
          rows += 1;
          continue;
        }
        if (quote === -1) break;
        this.quoted = true;
      }
      at = quote + 1;
      quote = chunk.indexOf(QUOTE, at);
    }
    parts.push(chunk.subarray(from));
    const bytes = Buffer.concat(parts);
    this.count(bytes, rows);
    done(null, bytes);
  }
}
