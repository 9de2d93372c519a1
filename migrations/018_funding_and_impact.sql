-- Issue 15, items 3 and 4 (docs/funding.md): a fund's resources and each loan's split across them,
-- the size class of a structure (EU indicator RCO01), and the impact follow-up of structures.

-- Impact follow-up: what a structure reports of itself once a year (a portal asks the borrower), or
-- what the fund's back office records. One per structure and date; never changed (a correction is a
-- snapshot of another date).
CREATE TABLE impact_snapshots (
  id              uuid PRIMARY KEY,
  fund_id         uuid NOT NULL REFERENCES funds (id),
  structure_id    uuid NOT NULL REFERENCES structures (id),
  snapshot_date   date NOT NULL,
  jobs_fte        numeric(10,2) NOT NULL CHECK (jobs_fte >= 0),
  jobs_created    numeric(10,2) NOT NULL CHECK (jobs_created >= 0),
  jobs_maintained numeric(10,2) NOT NULL CHECK (jobs_maintained >= 0),
  still_active    boolean NOT NULL,
  revenue         numeric(14,2) CHECK (revenue >= 0),
  recorded_by     text NOT NULL, -- the API key's id
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT impact_snapshots_structure_date_key UNIQUE (structure_id, snapshot_date)
);
CREATE INDEX impact_snapshots_fund ON impact_snapshots (fund_id, structure_id, snapshot_date);

-- A fund's resources: who put money in it, how much, for which period.
CREATE TABLE funding_sources (
  id               uuid PRIMARY KEY,
  fund_id          uuid NOT NULL REFERENCES funds (id),
  origin           text NOT NULL CHECK (origin IN ('erdf', 'esf_plus', 'region', 'department', 'intermunicipality', 'state',
                                                   'public_bank', 'private_bank', 'own_funds')),
  programme_code   text, -- the programme's CCI, for the EU funds only
  priority         text, -- the programme's priority, for the EU funds only
  label            text NOT NULL,
  amount_committed numeric(14,2) NOT NULL CHECK (amount_committed > 0),
  start_date       date NOT NULL,
  end_date         date,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((origin IN ('erdf', 'esf_plus')) = (programme_code IS NOT NULL AND priority IS NOT NULL)),
  CHECK (origin IN ('erdf', 'esf_plus') OR (programme_code IS NULL AND priority IS NULL)),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX funding_sources_fund ON funding_sources (fund_id, created_at);

-- Each loan's financing split across the fund's sources: percentages summing to exactly 100 (checked
-- by the use case that writes the whole set in one transaction).
CREATE TABLE loan_funding_shares (
  loan_id           uuid NOT NULL REFERENCES loans (id),
  funding_source_id uuid NOT NULL REFERENCES funding_sources (id),
  percent           numeric(9,6) NOT NULL CHECK (percent > 0 AND percent <= 100),
  PRIMARY KEY (loan_id, funding_source_id)
);
CREATE INDEX loan_funding_shares_source ON loan_funding_shares (funding_source_id);

-- The EU size class of an enterprise (Commission Recommendation 2003/361/EC), for RCO01.
ALTER TABLE structures ADD COLUMN size_class text CHECK (size_class IN ('micro', 'small', 'medium', 'large'));
