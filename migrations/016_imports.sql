-- Imports committed (docs/imports.md): the files as sent, kept until a worker has applied them in
-- one transaction, and what became of them. A dry run writes nothing, here or anywhere.
CREATE TABLE imports (
  id               uuid PRIMARY KEY,
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id          uuid NOT NULL REFERENCES funds (id),
  requested_by     text NOT NULL, -- the API key's id
  request_id       text,
  status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  files            jsonb NOT NULL, -- per file: sha256 and the dry run's tally at request time
  structures_csv   text,
  loans_csv        text,
  repayments_csv   text,
  rows_total       integer NOT NULL CHECK (rows_total >= 0),
  rows_done        integer NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
  created          jsonb, -- rows created per file, once done
  errors           jsonb NOT NULL DEFAULT '[]',
  errors_not_shown integer NOT NULL DEFAULT 0,
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error            text, -- why the last attempt failed, when it was not the files
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  CHECK ((status = 'done') = (created IS NOT NULL))
);
CREATE INDEX imports_fund ON imports (fund_id, seq);

-- The imports queue, for the outbox.
ALTER TABLE outbox DROP CONSTRAINT outbox_queue_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_queue_check CHECK (queue IN ('reminders', 'reports', 'exports', 'imports'));
