-- State aid (docs/state-aid.md, DOMAIN.md "State aid"): the EU base rates a fund records, the
-- classes and legal basis each loan's gross grant equivalent (GGE) is computed under, the aid each
-- loan granted, and what the de minimis headroom counts besides: aid declared from other grantors
-- and structures a manager links into one undertaking.

-- The EU base rate for France by effective date, recorded by each fund (we cannot fetch them).
-- Per fund, not platform-wide: the fund answers for the rates its GGEs used, and its audit chain
-- records them. Base rates have been negative: any sign.
CREATE TABLE eu_base_rates (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id         uuid NOT NULL REFERENCES funds (id),
  effective_date  date NOT NULL,
  rate_percent    numeric(9,6) NOT NULL CHECK (rate_percent BETWEEN -100 AND 100),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (fund_id, effective_date)
);

-- Defaults a product gives its loans (NULL: the platform's, no_credit_history × normal).
ALTER TABLE products
  ADD COLUMN rating_class text CHECK (rating_class IN ('strong', 'good', 'satisfactory', 'weak', 'bad', 'no_credit_history')),
  ADD COLUMN collateral_class text CHECK (collateral_class IN ('high', 'normal', 'low'));

ALTER TABLE loans
  ADD COLUMN rating_class text CHECK (rating_class IN ('strong', 'good', 'satisfactory', 'weak', 'bad', 'no_credit_history')),
  ADD COLUMN collateral_class text CHECK (collateral_class IN ('high', 'normal', 'low')),
  ADD COLUMN legal_basis text NOT NULL DEFAULT 'de_minimis' CHECK (legal_basis IN ('de_minimis', 'sgei_de_minimis', 'block_exemption', 'no_aid')),
  ADD COLUMN aid_scheme_reference text CHECK (aid_scheme_reference IS NULL OR length(aid_scheme_reference) BETWEEN 1 AND 100),
  -- The rates of the grant date, kept so that a restructuring recomputes at them (NULL: no base
  -- rate was in force on the disbursement date, and no GGE could be computed).
  ADD COLUMN base_rate_percent numeric(9,6),
  ADD COLUMN reference_rate_percent numeric(9,6),
  ADD COLUMN discount_rate_percent numeric(9,6),
  ADD COLUMN gross_grant_equivalent numeric(14,2) CHECK (gross_grant_equivalent >= 0),
  ADD CONSTRAINT loans_block_exemption_reference CHECK ((legal_basis = 'block_exemption') = (aid_scheme_reference IS NOT NULL));

-- Aid a loan granted: its GGE at disbursement, then what a restructuring added.
CREATE TABLE aid_grants (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id       uuid NOT NULL REFERENCES funds (id),
  structure_id  uuid NOT NULL,
  loan_id       uuid NOT NULL REFERENCES loans (id),
  grant_date    date NOT NULL,
  amount        numeric(14,2) NOT NULL CHECK (amount > 0),
  reason        text NOT NULL CHECK (reason IN ('disbursement', 'restructuring')),
  legal_basis   text NOT NULL CHECK (legal_basis IN ('de_minimis', 'sgei_de_minimis', 'block_exemption', 'no_aid')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (fund_id, structure_id) REFERENCES structures (fund_id, id)
);
CREATE INDEX aid_grants_structure ON aid_grants (structure_id, grant_date);
CREATE INDEX aid_grants_fund ON aid_grants (fund_id, grant_date, seq);

-- De minimis aid a structure declared having received from other grantors.
CREATE TABLE declared_aid (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  fund_id       uuid NOT NULL REFERENCES funds (id),
  structure_id  uuid NOT NULL,
  grantor       text NOT NULL CHECK (length(grantor) BETWEEN 1 AND 200),
  grant_date    date NOT NULL,
  amount        numeric(14,2) NOT NULL CHECK (amount > 0),
  legal_basis   text NOT NULL CHECK (legal_basis IN ('de_minimis', 'sgei_de_minimis')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (fund_id, structure_id) REFERENCES structures (fund_id, id)
);
CREATE INDEX declared_aid_structure ON declared_aid (structure_id, grant_date);

-- Structures of one fund a manager declares to form one undertaking beyond a shared SIREN; stored
-- once per pair, the smaller id first.
CREATE TABLE undertaking_links (
  fund_id       uuid NOT NULL REFERENCES funds (id),
  structure_id  uuid NOT NULL,
  linked_id     uuid NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (structure_id, linked_id),
  CHECK (structure_id < linked_id),
  FOREIGN KEY (fund_id, structure_id) REFERENCES structures (fund_id, id),
  FOREIGN KEY (fund_id, linked_id) REFERENCES structures (fund_id, id)
);
CREATE INDEX undertaking_links_linked ON undertaking_links (linked_id);
