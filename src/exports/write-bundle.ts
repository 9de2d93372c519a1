import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import type { Db } from '../db/connect';
import { copyCsv } from '../db/copy-out';
import { csvField } from '../http/csv';
import { chunkSink } from './chunk-sink';
import { CopiedLines, type Summary } from './copied-lines';
import type { Cell, CsvFile, CsvPair } from './export-files';

export interface FileSummary {
  readonly name: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

const cell = (value: Cell) => csvField(value === null || value === undefined ? '' : String(value));

const summary = (): Summary => ({ rows: 0, bytes: 0, hash: createHash('sha256') });

/** Lines of a CSV file (RFC 4180, CRLF) as one buffer: one string, one buffer, little for the GC. */
function csvLines(lines: readonly (readonly Cell[])[]): Buffer {
  let out = '';
  for (const cells of lines) out += `${cells.map(cell).join(',')}\r\n`;
  return Buffer.from(out, 'utf8');
}

/** `lines` (`rows` of them count in the manifest), counted and hashed into `of`. */
function csvText(of: Summary, lines: readonly (readonly Cell[])[], rows = lines.length): Buffer {
  const bytes = csvLines(lines);
  of.hash.update(bytes);
  of.bytes += bytes.length;
  of.rows += rows;
  return bytes;
}

/** A CSV file's header, then its pages' lines as they come. */
function csvStream(
  columns: readonly string[],
  pages: AsyncIterable<readonly (readonly Cell[])[]>,
  of: Summary,
): Readable {
  return Readable.from(
    (async function* () {
      yield csvText(of, [columns], 0);
      for await (const page of pages) yield csvText(of, page);
    })(),
    { objectMode: false },
  );
}

/**
 * Writes the bundle: each CSV file in turn, read from `trx` (one snapshot) and deflated into the
 * archive as it comes — with `copy`, the files that have a `copy` query as PostgreSQL's COPY writes
 * them (no row in JS), the others page by page; of a pair read together, the second is kept in a
 * temporary file while the first is written — then `manifest.json` (made by `manifest` from the
 * files' counts and checksums). The archive's bytes go to `store` in ~1 MB chunks as they come:
 * memory holds a page of rows and a chunk, whatever the fund's size. `fileDone(k)` after each file.
 */
export async function writeBundle(options: {
  trx: Db;
  files: readonly (CsvFile | CsvPair)[];
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
  const of = options.files.reduce((n, file) => n + ('names' in file ? 2 : 1), 0) + 1;
  /** `source` as the file `name`, once the archive has taken all of it and `feeding` (a COPY into it) is over. */
  const entry = async (
    name: string,
    source: Readable,
    counted: Summary,
    feeding?: Promise<void>,
  ) => {
    const written = entryWritten(name);
    archive.append(source, { name, date: options.made });
    try {
      await Promise.race([Promise.all([written, feeding]), ended]);
    } catch (error) {
      source.destroy(); // a COPY's rest is then dropped: the connection is free for the rollback
      await feeding?.catch(() => undefined);
      throw error;
    }
    summaries.push({
      name,
      rows: counted.rows,
      bytes: counted.bytes,
      sha256: counted.hash.digest('hex'),
    });
    await options.fileDone(summaries.length, of);
  };
  try {
    for (const file of options.files) {
      const counted = summary();
      if ('names' in file) {
        await writePair(file, options.trx, entry);
      } else if (options.copy && file.copy) {
        const lines = new CopiedLines(csvLines([file.columns]), counted);
        await entry(file.name, lines, counted, copyCsv(options.trx, file.copy, lines));
      } else {
        await entry(file.name, csvStream(file.columns, file.rows(options.trx), counted), counted);
      }
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

/**
 * The two files of `pair` from one read: the first into the archive as its pages come, the
 * second's lines meanwhile into a temporary file (memory stays flat), which then goes in after it.
 */
async function writePair(
  pair: CsvPair,
  trx: Db,
  entry: (name: string, source: Readable, counted: Summary) => Promise<void>,
): Promise<void> {
  const [first, second] = [summary(), summary()];
  const dir = await mkdtemp(join(tmpdir(), 'export-'));
  try {
    const spooled = join(dir, pair.names[1]);
    const spool = await open(spooled, 'w');
    try {
      await spool.write(csvText(second, [pair.columns[1]], 0));
      const firstPages = async function* () {
        for await (const [firsts, seconds] of pair.pages(trx)) {
          await spool.write(csvText(second, seconds));
          yield firsts;
        }
      };
      await entry(pair.names[0], csvStream(pair.columns[0], firstPages(), first), first);
    } finally {
      await spool.close();
    }
    await entry(pair.names[1], createReadStream(spooled), second);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
