-- Funds, loan products, structures, loans and their schedule versions.
-- Money is numeric(14,2), rates numeric(9,6); constraints make impossible states impossible.

CREATE TABLE funds (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  region_code           text NOT NULL CHECK (region_code ~ '^[0-9]{2}$'),
  department_codes      text[] NOT NULL CHECK (cardinality(department_codes) >= 1),
  currency              char(3) NOT NULL DEFAULT 'EUR' CHECK (currency = 'EUR'),
  reminder_days_before  integer[] NOT NULL DEFAULT '{15,3}',
  reminder_days_after   integer[] NOT NULL DEFAULT '{1,15,30}',
  webhook_url           text,
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fund_id                     uuid NOT NULL REFERENCES funds (id),
  name                        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind                        text NOT NULL CHECK (kind IN ('recovery', 'common_law')),
  principal_min               numeric(14,2) NOT NULL CHECK (principal_min > 0),
  principal_max               numeric(14,2) NOT NULL,
  annual_rate_percent_min     numeric(9,6) NOT NULL CHECK (annual_rate_percent_min >= 0),
  annual_rate_percent_max     numeric(9,6) NOT NULL CHECK (annual_rate_percent_max <= 100),
  term_periods_min            integer NOT NULL CHECK (term_periods_min >= 1),
  term_periods_max            integer NOT NULL CHECK (term_periods_max <= 600),
  deferral_periods_max        integer NOT NULL CHECK (deferral_periods_max >= 0),
  methods                     text[] NOT NULL CHECK (cardinality(methods) >= 1 AND methods <@ ARRAY['annuity', 'linear', 'bullet']),
  periodicities               text[] NOT NULL CHECK (cardinality(periodicities) >= 1 AND periodicities <@ ARRAY['monthly', 'quarterly', 'semiannual', 'annual']),
  rounding                    text NOT NULL DEFAULT 'half_up' CHECK (rounding IN ('half_up', 'half_even')),
  guarantee_coverage_percent  numeric(9,6) NOT NULL DEFAULT 0 CHECK (guarantee_coverage_percent BETWEEN 0 AND 100),
  created_at                  timestamptz NOT NULL DEFAULT now(),
  CHECK (principal_min <= principal_max),
  CHECK (annual_rate_percent_min <= annual_rate_percent_max),
  CHECK (term_periods_min <= term_periods_max),
  CHECK (deferral_periods_max < term_periods_max)
);
CREATE INDEX products_fund ON products (fund_id, created_at, id);

CREATE TABLE structures (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fund_id          uuid NOT NULL REFERENCES funds (id),
  legal_name       text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 300),
  siret            char(14) CHECK (siret ~ '^[0-9]{14}$'),
  rna              char(10) CHECK (rna ~ '^W[0-9]{9}$'),
  legal_form       text NOT NULL CHECK (legal_form IN ('association', 'cooperative', 'mutual', 'foundation', 'esus_company')),
  esus             boolean NOT NULL DEFAULT false,
  naf_code         text NOT NULL CHECK (naf_code ~ '^[0-9]{2}\.[0-9]{2}[A-Z]$'),
  commune_code     text NOT NULL CHECK (commune_code ~ '^([0-9]{5}|2[AB][0-9]{3})$'),
  department_code  text NOT NULL CHECK (department_code ~ '^([0-9]{2,3}|2[AB])$'),
  region_code      text NOT NULL CHECK (region_code ~ '^[0-9]{2}$'),
  jobs_fte         numeric(9,2) NOT NULL CHECK (jobs_fte >= 0),
  contact_email    text NOT NULL,
  webhook_url      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (siret IS NOT NULL OR rna IS NOT NULL),
  UNIQUE (fund_id, siret),
  UNIQUE (fund_id, id)
);
CREATE INDEX structures_fund ON structures (fund_id, created_at, id);

CREATE TABLE loans (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fund_id              uuid NOT NULL REFERENCES funds (id),
  product_id           uuid NOT NULL REFERENCES products (id),
  structure_id         uuid NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('recovery', 'common_law')),
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'repaid', 'written_off', 'cancelled')),
  restructured         boolean NOT NULL DEFAULT false,
  principal            numeric(14,2) NOT NULL CHECK (principal > 0),
  annual_rate_percent  numeric(9,6) NOT NULL CHECK (annual_rate_percent BETWEEN 0 AND 100),
  periodicity          text NOT NULL CHECK (periodicity IN ('monthly', 'quarterly', 'semiannual', 'annual')),
  term_periods         integer NOT NULL CHECK (term_periods BETWEEN 1 AND 600),
  deferral_periods     integer NOT NULL CHECK (deferral_periods >= 0 AND deferral_periods < term_periods),
  deferral_type        text NOT NULL CHECK (deferral_type IN ('partial', 'total')),
  method               text NOT NULL CHECK (method IN ('annuity', 'linear', 'bullet')),
  day_count            text NOT NULL CHECK (day_count IN ('30E/360', 'ACT/365', 'ACT/360')),
  rounding             text NOT NULL CHECK (rounding IN ('half_up', 'half_even')),
  instalment_multiple  numeric(14,2) NOT NULL CHECK (instalment_multiple > 0),
  disbursement_date    date NOT NULL,
  first_due_date       date CHECK (first_due_date > disbursement_date),
  disbursed_on         date,
  cancelled_on         date,
  outstanding_principal numeric(14,2) NOT NULL DEFAULT 0 CHECK (outstanding_principal >= 0),
  schedule_version     integer NOT NULL DEFAULT 0 CHECK (schedule_version >= 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (fund_id, structure_id) REFERENCES structures (fund_id, id),
  CHECK ((status = 'pending') = (schedule_version = 0) OR status = 'cancelled'),
  CHECK (status <> 'active' OR disbursed_on IS NOT NULL)
);
CREATE INDEX loans_fund ON loans (fund_id, created_at, id);
CREATE INDEX loans_structure ON loans (structure_id, created_at, id);

-- A fixed schedule: version 1 at disbursement, one more per prepayment or restructuring.
CREATE TABLE schedule_versions (
  loan_id         uuid NOT NULL REFERENCES loans (id),
  version         integer NOT NULL CHECK (version >= 1),
  reason          text NOT NULL,
  effective_date  date NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (loan_id, version)
);

CREATE TABLE instalments (
  loan_id               uuid NOT NULL,
  version               integer NOT NULL,
  number                integer NOT NULL CHECK (number >= 1),
  due_date              date NOT NULL,
  principal             numeric(14,2) NOT NULL CHECK (principal >= 0),
  interest              numeric(14,2) NOT NULL CHECK (interest >= 0),
  total                 numeric(14,2) NOT NULL CHECK (total = principal + interest),
  balance_after         numeric(14,2) NOT NULL CHECK (balance_after >= 0),
  capitalised_interest  numeric(14,2) NOT NULL DEFAULT 0 CHECK (capitalised_interest >= 0),
  PRIMARY KEY (loan_id, version, number),
  FOREIGN KEY (loan_id, version) REFERENCES schedule_versions (loan_id, version)
);
