import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import type { Db } from '../db/connect';
import { copyCsv } from '../db/copy-out';
import { csvField } from '../http/csv';
import { chunkSink } from './chunk-sink';
import { CopiedLines, type Summary } from './copied-lines';
import type { Cell, CsvFile } from './export-files';

export interface FileSummary {
  readonly name: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

const cell = (value: Cell) => csvField(value === null || value === undefined ? '' : String(value));

const line = (cells: readonly Cell[]) => `${cells.map(cell).join(',')}\r\n`;
const header = (file: CsvFile) => Buffer.from(line(file.columns), 'utf8');

/** A CSV file's lines (RFC 4180, CRLF), a page at a time (one string, one buffer: little for the GC), counted and hashed as they go into the archive. */
function csvStream(file: CsvFile, trx: Db, summary: Summary): Readable {
  const text = (lines: readonly (readonly Cell[])[]) => {
    let out = '';
    for (const cells of lines) out += line(cells);
    const bytes = Buffer.from(out, 'utf8');
    summary.hash.update(bytes);
    summary.bytes += bytes.length;
    return bytes;
  };
  const pages = async function* () {
    yield text([file.columns]);
    for await (const page of file.rows(trx)) {
      summary.rows += page.length;
      yield text(page);
    }
  };
  return Readable.from(pages(), { objectMode: false });
}

/**
 * Writes the bundle: each CSV file in turn, read from `trx` (one snapshot) and deflated into the
 * archive as it comes — with `copy`, the files that have a `copy` query as PostgreSQL's COPY
 * writes them (no row in JS), the others page by page — then `manifest.json` (made by `manifest` from the files'
 * counts and checksums). The archive's bytes go to `store` in ~1 MB chunks as they come: memory
 * holds a page of rows and a chunk, whatever the fund's size. `fileDone(k)` after each file.
 */
export async function writeBundle(options: {
  trx: Db;
  files: readonly CsvFile[];
  made: Date;
  manifest: (files: readonly FileSummary[]) => unknown;
  store: (seq: number, bytes: Buffer) => Promise<void>;
  fileDone: (done: number, of: number) => Promise<void>;
  /** PostgreSQL: the files that have a `copy` query are written by its COPY; else (PGlite) all by JS. */
  copy: boolean;
}): Promise<{ size: number; sha256: string }> {
  const archive = archiver('zip', { zlib: { level: 6 } });
  const { sink, result } = chunkSink(options.store);
  const piped = pipeline(archive, sink);
  const entryWritten = (name: string) =>
    new Promise<void>((resolve) => {
      const seen = (entry: archiver.EntryData) => {
        if (entry.name !== name) return;
        archive.off('entry', seen);
        resolve();
      };
      archive.on('entry', seen);
    });
  const ended = piped.then(() => {
    throw new Error('the archive ended before its files were written');
  });
  ended.catch(() => undefined); // raced against each file; what failed is thrown from there
  const summaries: FileSummary[] = [];
  try {
    for (const [k, file] of options.files.entries()) {
      const summary = { rows: 0, bytes: 0, hash: createHash('sha256') };
      const written = entryWritten(file.name);
      if (options.copy && file.copy) {
        const lines = new CopiedLines(header(file), summary);
        archive.append(lines, { name: file.name, date: options.made });
        const copied = copyCsv(options.trx, file.copy, lines);
        try {
          await Promise.race([Promise.all([written, copied]), ended]);
        } catch (error) {
          lines.destroy(); // the COPY's rest is dropped: the connection is free for the rollback
          await copied.catch(() => undefined);
          throw error;
        }
      } else {
        archive.append(csvStream(file, options.trx, summary), {
          name: file.name,
          date: options.made,
        });
        await Promise.race([written, ended]);
      }
      summaries.push({
        name: file.name,
        rows: summary.rows,
        bytes: summary.bytes,
        sha256: summary.hash.digest('hex'),
      });
      await options.fileDone(k + 1, options.files.length + 1);
    }
    archive.append(`${JSON.stringify(options.manifest(summaries), null, 2)}\n`, {
      name: 'manifest.json',
      date: options.made,
    });
    await archive.finalize();
    await piped;
  } catch (error) {
    archive.abort();
    await piped.catch(() => undefined);
    throw error;
  }
  return result();
}
