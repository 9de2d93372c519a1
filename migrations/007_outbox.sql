-- Background work a change asks for, written in the change's own transaction (a transactional
-- outbox): both land or neither. The relay (workers/) moves each row to its BullMQ queue under the
-- row's job id, then stamps it sent (no transaction is held while Redis answers). While Redis is down rows wait, and nothing is lost; a row
-- relayed twice (a crash between the enqueue and the stamp) carries the same job id, which BullMQ
-- adds once. A job id is unique here too: asking twice for the same work is asking once.
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue      text NOT NULL CHECK (queue IN ('reminders', 'reports')),
  job_name   text NOT NULL CHECK (length(job_name) BETWEEN 1 AND 100),
  -- BullMQ refuses a custom job id with a colon, or that reads as an integer: a letter first, then
  -- letters, digits, '-' and '_' only.
  job_id     text NOT NULL UNIQUE CHECK (job_id ~ '^[A-Za-z][A-Za-z0-9_-]{0,199}$'),
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
