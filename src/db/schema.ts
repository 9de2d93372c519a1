import type { ColumnType, Generated } from 'kysely';

/** The TypeScript mirror of migrations/: numeric and date columns come back as strings. */
type Numeric = string;
type CalendarDateColumn = string;
type CreatedAt = ColumnType<Date, never, never>;

export interface FundsTable {
  id: Generated<string>;
  name: string;
  region_code: string;
  department_codes: string[];
  currency: Generated<string>;
  reminder_days_before: Generated<number[]>;
  reminder_days_after: Generated<number[]>;
  webhook_url: string | null;
  created_at: Generated<Date>;
}

export interface ProductsTable {
  id: Generated<string>;
  fund_id: string;
  name: string;
  kind: string;
  principal_min: Numeric;
  principal_max: Numeric;
  annual_rate_percent_min: Numeric;
  annual_rate_percent_max: Numeric;
  term_periods_min: number;
  term_periods_max: number;
  deferral_periods_max: number;
  methods: string[];
  periodicities: string[];
  rounding: Generated<string>;
  guarantee_coverage_percent: Generated<Numeric>;
  created_at: Generated<Date>;
}

export interface StructuresTable {
  id: Generated<string>;
  fund_id: string;
  legal_name: string;
  siret: string | null;
  rna: string | null;
  legal_form: string;
  esus: Generated<boolean>;
  naf_code: string;
  commune_code: string;
  department_code: string;
  region_code: string;
  jobs_fte: Numeric;
  contact_email: string;
  webhook_url: string | null;
  created_at: Generated<Date>;
}

export interface LoansTable {
  id: Generated<string>;
  fund_id: string;
  product_id: string;
  structure_id: string;
  kind: string;
  status: Generated<string>;
  restructured: Generated<boolean>;
  principal: Numeric;
  annual_rate_percent: Numeric;
  periodicity: string;
  term_periods: number;
  deferral_periods: number;
  deferral_type: string;
  method: string;
  day_count: string;
  rounding: string;
  instalment_multiple: Numeric;
  disbursement_date: CalendarDateColumn;
  first_due_date: CalendarDateColumn | null;
  disbursed_on: CalendarDateColumn | null;
  cancelled_on: CalendarDateColumn | null;
  outstanding_principal: Generated<Numeric>;
  schedule_version: Generated<number>;
  created_at: Generated<Date>;
}

export interface ScheduleVersionsTable {
  loan_id: string;
  version: number;
  reason: string;
  effective_date: CalendarDateColumn;
  created_at: Generated<Date>;
}

export interface InstalmentsTable {
  loan_id: string;
  version: number;
  number: number;
  due_date: CalendarDateColumn;
  principal: Numeric;
  interest: Numeric;
  total: Numeric;
  balance_after: Numeric;
  capitalised_interest: Generated<Numeric>;
}

export interface ApiKeysTable {
  id: Generated<string>;
  role: string;
  fund_id: string;
  structure_id: string | null;
  label: string;
  secret_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface AuditEventsTable {
  id: ColumnType<string, never, never>;
  fund_id: string;
  seq: number;
  occurred_at: Date;
  actor_key_id: string;
  action: string;
  entity_type: string;
  entity_id: string;
  request_id: string | null;
  state: unknown;
  prev_hash: string;
  hash: string;
}

export interface JournalEntriesTable {
  id: string;
  fund_id: string;
  loan_id: string | null;
  event: string;
  value_date: CalendarDateColumn;
  reverses: string | null;
  created_at: Generated<Date>;
}

export interface JournalLinesTable {
  entry_id: string;
  line: number;
  account: string;
  debit: Numeric;
  credit: Numeric;
}

export interface Database {
  funds: FundsTable;
  products: ProductsTable;
  structures: StructuresTable;
  loans: LoansTable;
  schedule_versions: ScheduleVersionsTable;
  instalments: InstalmentsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  journal_entries: JournalEntriesTable;
  journal_lines: JournalLinesTable;
  schema_migrations: { version: string; applied_at: CreatedAt };
}
