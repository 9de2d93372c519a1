-- Repayment reminders (DOMAIN.md "Reminders"): one row per (instalment, kind, offset), whatever the
-- number of scans, jobs or retries — at-least-once delivery of jobs must never mean two reminders.
-- An instalment is its loan, number and due date: a restructuring that moves a due date makes a new
-- instalment to remind of. The scan creates the rows with their outbox jobs, in one statement.
CREATE TABLE reminders (
  id                 uuid PRIMARY KEY,
  seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id            uuid NOT NULL REFERENCES funds (id),
  loan_id            uuid NOT NULL REFERENCES loans (id),
  structure_id       uuid NOT NULL,
  instalment_number  integer NOT NULL CHECK (instalment_number >= 1),
  due_date           date NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('before_due', 'after_due')),
  offset_days        integer NOT NULL CHECK (offset_days BETWEEN 0 AND 366),
  send_on            date NOT NULL,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error         text,
  sent_at            timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (loan_id, instalment_number, due_date, kind, offset_days),
  CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX reminders_fund ON reminders (fund_id, seq);
CREATE INDEX reminders_loan ON reminders (loan_id, seq);
-- The scan reads the current version's instalments of active loans.
CREATE INDEX loans_active ON loans (fund_id) WHERE status = 'active';
