-- Each fund's double-entry ledger. Every money event posts one journal entry, in the transaction of
-- the event; PostgreSQL itself refuses an entry whose debits and credits differ (checked at commit).

CREATE TABLE journal_entries (
  id          uuid PRIMARY KEY,
  fund_id     uuid NOT NULL REFERENCES funds (id),
  loan_id     uuid REFERENCES loans (id),
  event       text NOT NULL CHECK (event IN ('disbursement', 'repayment', 'capitalised_interest', 'write_off', 'recovery', 'reversal')),
  value_date  date NOT NULL,
  reverses    uuid REFERENCES journal_entries (id),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_fund_date ON journal_entries (fund_id, value_date);
CREATE INDEX journal_entries_loan ON journal_entries (loan_id, value_date);

CREATE TABLE journal_lines (
  entry_id  uuid NOT NULL REFERENCES journal_entries (id),
  line      integer NOT NULL CHECK (line >= 1),
  account   text NOT NULL CHECK (account IN ('cash', 'loans_receivable', 'interest_income', 'loan_losses', 'recoveries', 'owed_to_borrowers')),
  debit     numeric(14,2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
  credit    numeric(14,2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
  PRIMARY KEY (entry_id, line),
  CHECK ((debit > 0) <> (credit > 0))
);

-- At commit, every entry touched by the transaction has two lines or more and balances.
-- The trigger's argument names the column that holds the entry's id in the row.
CREATE FUNCTION journal_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  entry uuid := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;
  lines integer;
  difference numeric;
BEGIN
  SELECT count(*), coalesce(sum(debit), 0) - coalesce(sum(credit), 0) INTO lines, difference FROM journal_lines WHERE entry_id = entry;
  IF lines < 2 OR difference <> 0 THEN
    RAISE EXCEPTION 'journal entry % does not balance (% lines, debits - credits = %)', entry, lines, difference;
  END IF;
  RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER journal_entries_balance AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balances('id');
CREATE CONSTRAINT TRIGGER journal_lines_balance AFTER INSERT ON journal_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balances('entry_id');

-- Money movements are append-only: a correction is a new, opposite entry.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
