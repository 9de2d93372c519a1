import type { Writable } from 'node:stream';
import type { RawBuilder } from 'kysely';
import { to as copyTo } from 'pg-copy-streams';
import type { Db } from './connect';
import { onConnection } from './on-connection';

/**
 * `COPY (query) TO STDOUT WITH (FORMAT csv)` on `trx`'s connection (its snapshot), the bytes
 * written into `into` as they come: the COPY waits while `into` is full. COPY takes no parameters,
 * so the query's are written into its text as literals (pg's escapeLiteral); its text must hold no
 * other `$n`. If `into` fails or is destroyed first, the rest of the COPY is read and dropped, so
 * that the connection stays usable (its transaction then rolls back), and that failure is thrown.
 * PostgreSQL only: on PGlite it throws.
 */
export async function copyCsv(trx: Db, query: RawBuilder<unknown>, into: Writable): Promise<void> {
  const { sql: text, parameters } = query.compile(trx);
  const copied = await onConnection(
    trx,
    (client) =>
      new Promise<void>((resolve, reject) => {
        const inlined = text.replace(/\$(\d+)/g, (_, n: string) => {
          const value = parameters[Number(n) - 1];
          if (typeof value !== 'string' && typeof value !== 'number')
            throw new Error(`COPY: parameter $${n} is not a string or a number`);
          return client.escapeLiteral(String(value));
        });
        const copy = client.query(copyTo(`COPY (${inlined}) TO STDOUT WITH (FORMAT csv)`));
        let failure: unknown;
        const drop = (error: unknown) => {
          if (failure !== undefined || copy.readableEnded) return;
          failure = error;
          copy.unpipe(into);
          copy.resume();
        };
        into.on('error', drop);
        into.on('close', () => drop(new Error('the CSV was closed before the COPY ended')));
        copy.on('error', reject); // PostgreSQL's error: pg has the connection back
        copy.on('end', () => (failure === undefined ? resolve() : reject(failure)));
        copy.pipe(into);
      }),
  );
  if (copied === 'unsupported') throw new Error('COPY needs a node-postgres client: not on PGlite');
}
