-- Servicing: repayments (with idempotency keys), restructurings, portfolio moratoria, write-offs.
-- Facts are append-only; what a replay of them derives (allocations, the loan's state) is kept current.

-- One sequence orders every servicing fact of a loan as it was recorded (under the loan's row lock):
-- the tie-break between facts of the same date when the history is replayed.
CREATE SEQUENCE servicing_facts_seq;

CREATE TABLE repayments (
  id               uuid PRIMARY KEY,
  loan_id          uuid NOT NULL REFERENCES loans (id),
  seq              bigint NOT NULL DEFAULT nextval('servicing_facts_seq') UNIQUE,
  amount           numeric(14,2) NOT NULL CHECK (amount > 0),
  value_date       date NOT NULL,
  reference        text CHECK (length(reference) BETWEEN 1 AND 200),
  prepayment       text NOT NULL CHECK (prepayment IN ('reduce_instalment', 'reduce_term', 'pay_ahead')),
  -- Derived by the allocation, kept current when a reversal or a back-dated repayment re-allocates it.
  kind             text NOT NULL CHECK (kind IN ('repayment', 'recovery')),
  principal_prepaid numeric(14,2) NOT NULL DEFAULT 0 CHECK (principal_prepaid >= 0),
  excess           numeric(14,2) NOT NULL DEFAULT 0 CHECK (excess >= 0),
  reversed_at      timestamptz,
  reversal_reason  text CHECK (length(reversal_reason) BETWEEN 1 AND 500),
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((reversed_at IS NULL) = (reversal_reason IS NULL))
);
CREATE INDEX repayments_loan ON repayments (loan_id, value_date, seq);

-- A repayment is never deleted and what was paid never changes; a reversal stamps it once.
CREATE FUNCTION repayments_keep_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'repayments are never deleted: reverse them';
  END IF;
  IF (NEW.id, NEW.loan_id, NEW.seq, NEW.amount, NEW.value_date, NEW.reference, NEW.prepayment, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.loan_id, OLD.seq, OLD.amount, OLD.value_date, OLD.reference, OLD.prepayment, OLD.created_at)
     OR (OLD.reversed_at IS NOT NULL AND (NEW.reversed_at, NEW.reversal_reason) IS DISTINCT FROM (OLD.reversed_at, OLD.reversal_reason)) THEN
    RAISE EXCEPTION 'repayment % is a fact: only its reversal may be recorded, once', OLD.id;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER repayments_keep_facts BEFORE UPDATE OR DELETE ON repayments FOR EACH ROW EXECUTE FUNCTION repayments_keep_facts();

-- What each repayment not reversed paid towards each instalment (by number, in the current version).
CREATE TABLE allocations (
  repayment_id   uuid NOT NULL REFERENCES repayments (id),
  number         integer NOT NULL CHECK (number >= 1),
  fees           numeric(14,2) NOT NULL DEFAULT 0 CHECK (fees >= 0),
  late_interest  numeric(14,2) NOT NULL DEFAULT 0 CHECK (late_interest >= 0),
  interest       numeric(14,2) NOT NULL DEFAULT 0 CHECK (interest >= 0),
  principal      numeric(14,2) NOT NULL DEFAULT 0 CHECK (principal >= 0),
  PRIMARY KEY (repayment_id, number),
  CHECK (fees + late_interest + interest + principal > 0)
);

CREATE TABLE moratoria (
  id                  uuid PRIMARY KEY,
  fund_id             uuid NOT NULL REFERENCES funds (id),
  kind                text CHECK (kind IN ('recovery', 'common_law')),
  effective_date      date NOT NULL,
  periods             integer NOT NULL CHECK (periods BETWEEN 1 AND 120),
  deferral_type       text NOT NULL CHECK (deferral_type IN ('partial', 'total')),
  capitalise_arrears  boolean NOT NULL,
  reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  loans_changed       integer NOT NULL CHECK (loans_changed >= 0),
  loans_skipped       integer NOT NULL CHECK (loans_skipped >= 0),
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moratoria_fund ON moratoria (fund_id, created_at);

CREATE TABLE restructurings (
  id                   uuid PRIMARY KEY,
  loan_id              uuid NOT NULL REFERENCES loans (id),
  seq                  bigint NOT NULL DEFAULT nextval('servicing_facts_seq') UNIQUE,
  type                 text NOT NULL CHECK (type IN ('moratorium', 'extension', 'rate_change')),
  effective_date       date NOT NULL,
  reason               text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  periods              integer CHECK (periods BETWEEN 1 AND 120),
  deferral_type        text CHECK (deferral_type IN ('partial', 'total')),
  remaining_periods    integer CHECK (remaining_periods BETWEEN 1 AND 600),
  term_periods         integer CHECK (term_periods BETWEEN 1 AND 1200),
  annual_rate_percent  numeric(9,6) CHECK (annual_rate_percent BETWEEN 0 AND 100),
  capitalise_arrears   boolean NOT NULL DEFAULT false,
  moratorium_id        uuid REFERENCES moratoria (id) DEFERRABLE INITIALLY DEFERRED, -- the moratorium is stored after its loans
  schedule_version     integer NOT NULL CHECK (schedule_version >= 1),
  created_at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'moratorium') = (periods IS NOT NULL AND deferral_type IS NOT NULL)),
  CHECK ((type = 'extension') = (remaining_periods IS NOT NULL OR term_periods IS NOT NULL)),
  CHECK (remaining_periods IS NULL OR term_periods IS NULL),
  CHECK ((type = 'rate_change') = (annual_rate_percent IS NOT NULL))
);
CREATE INDEX restructurings_loan ON restructurings (loan_id, effective_date, seq);

-- What a restructuring with capitalise_arrears settled, by capitalising it, of each instalment in
-- arrears: the instalment keeps its amounts (it was owed until then) and is paid from that date.
-- Derived by the replay, like allocations.
CREATE TABLE arrears_settlements (
  restructuring_id  uuid NOT NULL REFERENCES restructurings (id),
  number            integer NOT NULL CHECK (number >= 1),
  interest          numeric(14,2) NOT NULL CHECK (interest >= 0),
  principal         numeric(14,2) NOT NULL CHECK (principal >= 0),
  PRIMARY KEY (restructuring_id, number),
  CHECK (interest + principal > 0)
);
CREATE TRIGGER restructurings_append_only BEFORE UPDATE OR DELETE ON restructurings FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER moratoria_append_only BEFORE UPDATE OR DELETE ON moratoria FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

ALTER TABLE loans
  ADD COLUMN repaid_on date,
  ADD COLUMN written_off_on date,
  ADD COLUMN written_off_at timestamptz,
  ADD COLUMN written_off_seq bigint,
  ADD COLUMN write_off_reason text CHECK (length(write_off_reason) BETWEEN 1 AND 500),
  ADD COLUMN written_off_principal numeric(14,2) CHECK (written_off_principal >= 0),
  ADD COLUMN current_annual_rate_percent numeric(9,6) CHECK (current_annual_rate_percent BETWEEN 0 AND 100),
  -- Moves on with every servicing change: a history read before a change is known to be stale.
  ADD COLUMN revision integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT loans_written_off_facts CHECK ((written_off_on IS NULL) = (write_off_reason IS NULL) AND (written_off_on IS NULL) = (written_off_at IS NULL) AND (written_off_on IS NULL) = (written_off_seq IS NULL)),
  ADD CONSTRAINT loans_closed_dates CHECK ((status = 'repaid') = (repaid_on IS NOT NULL) AND (status <> 'written_off' OR written_off_on IS NOT NULL));

-- Each journal entry of a loan says what it stands for ("repayment:<id>", "capitalisation:<due date>",
-- "write_off", …): a replay compares what the history calls for with what is posted, and reverses
-- or posts the difference. Entries posted before this column existed are disbursements.
ALTER TABLE journal_entries ADD COLUMN source text;
ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only;
UPDATE journal_entries SET source = 'disbursement' WHERE event = 'disbursement';
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_source CHECK (source IS NOT NULL OR loan_id IS NULL);
CREATE UNIQUE INDEX journal_entries_reversed_once ON journal_entries (reverses) WHERE reverses IS NOT NULL;

-- Idempotency-Key of money-moving requests, per API key: the first response, replayed to a retry.
CREATE TABLE idempotency_keys (
  owner         text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Audit chains per stream: a loan's changes chain together (the loan's row lock already orders
-- them), the fund's other changes form the fund's chain; so a fund's repayments do not queue behind
-- one chain head. Events recorded before keep their fund as their stream (one chain per fund).
ALTER TABLE audit_events ADD COLUMN stream uuid;
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events SET stream = fund_id;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
ALTER TABLE audit_events ALTER COLUMN stream SET NOT NULL;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_fund_id_seq_key;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_stream_seq UNIQUE (stream, seq);
CREATE INDEX audit_events_fund_stream ON audit_events (fund_id, stream, seq);

-- The head of each chain. Appending an event advances it and inserts the event in one statement, the
-- hash computed by PostgreSQL: changes of one stream wait on this row for that statement and the commit.
CREATE TABLE audit_chain_heads (
  stream     uuid PRIMARY KEY,
  fund_id    uuid NOT NULL REFERENCES funds (id),
  seq        integer NOT NULL CHECK (seq >= 1),
  hash       text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  prev_hash  text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO audit_chain_heads (stream, fund_id, seq, hash, prev_hash)
  SELECT DISTINCT ON (stream) stream, fund_id, seq, hash, prev_hash FROM audit_events ORDER BY stream, seq DESC;
