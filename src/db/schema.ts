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
  reminder_channels: Generated<('webhook' | 'email')[]>;
  /** Signs the fund's webhooks; never in a view, a log or the audit trail. */
  webhook_secret: Generated<string>;
  /** The latest date a reminder scan of the fund was as of (its next scan looks at send dates since). */
  reminders_scanned_through: CalendarDateColumn | null;
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
  /** The ETag: moved by a trigger whenever the row changes (migrations/013). */
  version: Generated<number>;
  active: Generated<boolean>;
  /** State aid (migration 017): the classes a loan of the product takes unless it names its own. */
  rating_class: ColumnType<string | null, string | null | undefined, string | null>;
  collateral_class: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** The ETag: moved by a trigger whenever the row changes (migrations/013). */
  version: Generated<number>;
  /** The EU size class (micro, small, medium, large), for the indicator RCO01 (migration 018); null until recorded. */
  size_class: ColumnType<string | null, string | null | undefined, string | null>;
  /** In a priority urban neighbourhood (QPV), for the evaluation report (migration 019, h-terr). */
  qpv: Generated<boolean>;
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
  repaid_on: ColumnType<
    CalendarDateColumn | null,
    CalendarDateColumn | null | undefined,
    CalendarDateColumn | null
  >;
  written_off_on: ColumnType<
    CalendarDateColumn | null,
    CalendarDateColumn | null | undefined,
    CalendarDateColumn | null
  >;
  written_off_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  written_off_seq: ColumnType<string | null, never, string | null>;
  write_off_reason: ColumnType<string | null, string | null | undefined, string | null>;
  written_off_principal: ColumnType<Numeric | null, Numeric | null | undefined, Numeric | null>;
  current_annual_rate_percent: ColumnType<
    Numeric | null,
    Numeric | null | undefined,
    Numeric | null
  >;
  revision: ColumnType<number, never, number>;
  /** The reference of a loan brought by a CSV import (migration 015); null for loans entered through the API. */
  external_reference: ColumnType<string | null, string | null | undefined, string | null>;
  /** Other financing the loan unlocked: bank loans and grants (migration 019, h-terr; docs/evaluation.md). */
  leverage_bank_loans: Generated<Numeric>;
  leverage_grants: Generated<Numeric>;
  /** State aid (migration 017, docs/state-aid.md). */
  rating_class: ColumnType<string | null, string | null | undefined, string | null>;
  collateral_class: ColumnType<string | null, string | null | undefined, string | null>;
  legal_basis: Generated<string>;
  aid_scheme_reference: ColumnType<string | null, string | null | undefined, string | null>;
  base_rate_percent: ColumnType<Numeric | null, Numeric | null | undefined, Numeric | null>;
  reference_rate_percent: ColumnType<Numeric | null, Numeric | null | undefined, Numeric | null>;
  discount_rate_percent: ColumnType<Numeric | null, Numeric | null | undefined, Numeric | null>;
  gross_grant_equivalent: ColumnType<Numeric | null, Numeric | null | undefined, Numeric | null>;
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
  /** The chain the event belongs to: its loan's id for a loan's changes, else its fund's id. */
  stream: string;
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
  source: string | null;
  created_at: Generated<Date>;
}

export interface RepaymentsTable {
  id: string;
  loan_id: string;
  seq: ColumnType<string, never, never>;
  amount: Numeric;
  value_date: CalendarDateColumn;
  reference: string | null;
  prepayment: string;
  kind: string;
  principal_prepaid: Numeric;
  excess: Numeric;
  reversed_at: Date | null;
  reversal_reason: string | null;
  created_at: Generated<Date>;
}

export interface AllocationsTable {
  repayment_id: string;
  number: number;
  fees: Numeric;
  late_interest: Numeric;
  interest: Numeric;
  principal: Numeric;
}

export interface RestructuringsTable {
  id: string;
  loan_id: string;
  seq: ColumnType<string, never, never>;
  type: string;
  effective_date: CalendarDateColumn;
  reason: string;
  periods: number | null;
  deferral_type: string | null;
  remaining_periods: number | null;
  term_periods: number | null;
  annual_rate_percent: Numeric | null;
  capitalise_arrears: boolean;
  moratorium_id: string | null;
  schedule_version: number;
  created_at: Generated<Date>;
}

export interface ArrearsSettlementsTable {
  restructuring_id: string;
  number: number;
  interest: Numeric;
  principal: Numeric;
}

export interface MoratoriaTable {
  id: string;
  fund_id: string;
  kind: string | null;
  effective_date: CalendarDateColumn;
  periods: number;
  deferral_type: string;
  capitalise_arrears: boolean;
  reason: string;
  loans_changed: number;
  loans_skipped: number;
  created_at: Generated<Date>;
}

export interface IdempotencyKeysTable {
  owner: string;
  key: string;
  request_hash: string;
  status_code: number;
  response: unknown;
  created_at: Generated<Date>;
}

export interface JournalLinesTable {
  entry_id: string;
  line: number;
  account: string;
  debit: Numeric;
  credit: Numeric;
}

export interface OutboxTable {
  id: Generated<string>;
  queue: 'reminders' | 'reports' | 'exports' | 'imports';
  job_name: string;
  job_id: string;
  payload: unknown;
  created_at: Generated<Date>;
  sent_at: Date | null;
}

export interface RemindersTable {
  id: string;
  seq: Generated<string>;
  fund_id: string;
  loan_id: string;
  structure_id: string;
  instalment_number: number;
  due_date: CalendarDateColumn;
  kind: 'before_due' | 'after_due';
  offset_days: number;
  send_on: CalendarDateColumn;
  status: Generated<'pending' | 'sent' | 'failed' | 'skipped'>;
  attempts: Generated<number>;
  last_error: string | null;
  sent_at: Date | null;
  created_at: Generated<Date>;
  webhook_sent_at: Date | null;
  email_sent_at: Date | null;
  claimed_until: Date | null;
}

export interface ReportsTable {
  id: string;
  seq: Generated<string>;
  fund_id: string;
  as_of: CalendarDateColumn;
  trigger: 'request' | 'schedule';
  requested_by: string | null;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  progress: Generated<number>;
  attempts: Generated<number>;
  error: string | null;
  result: unknown;
  csv: string | null;
  sha256: string | null;
  csv_sha256: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  /** resilience or evaluation (migration 019, h-terr). */
  type: Generated<'resilience' | 'evaluation'>;
}

export interface ExportsTable {
  id: string;
  seq: Generated<string>;
  fund_id: string;
  as_of: CalendarDateColumn;
  requested_by: string;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  progress: Generated<number>;
  attempts: Generated<number>;
  error: string | null;
  size: string | null;
  sha256: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface ImportsTable {
  id: string;
  seq: Generated<string>;
  fund_id: string;
  requested_by: string;
  request_id: string | null;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  files: unknown;
  structures_csv: string | null;
  loans_csv: string | null;
  repayments_csv: string | null;
  rows_total: number;
  rows_done: Generated<number>;
  created: unknown;
  errors: Generated<unknown>;
  errors_not_shown: Generated<number>;
  attempts: Generated<number>;
  error: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface ExportChunksTable {
  export_id: string;
  seq: number;
  bytes: Buffer;
}

export interface EventsTable {
  id: string;
  seq: Generated<string>;
  type: string;
  fund_id: string;
  structure_id: string | null;
  loan_id: string | null;
  data: unknown;
  request_id: string | null;
  dedup_key: string | null;
  created_at: Generated<Date>;
}

export interface WebhookEndpointsTable {
  id: string;
  seq: Generated<string>;
  fund_id: string;
  structure_id: string | null;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  /** Signs the endpoint's deliveries; shown once, never in a view after, a log or the audit trail. */
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  created_by_key_id: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  seq: Generated<string>;
  endpoint_id: string;
  event_id: string;
  order_key: string;
  status: Generated<'pending' | 'delivered' | 'failed'>;
  waiting: Generated<boolean>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  claimed_until: Date | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  endpoint_id: string;
  event_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

// --- funding sources, loans' funding split, impact snapshots (migration 018, docs/funding.md)
export interface ImpactSnapshotsTable {
  id: string;
  fund_id: string;
  structure_id: string;
  snapshot_date: CalendarDateColumn;
  jobs_fte: Numeric;
  jobs_created: Numeric;
  jobs_maintained: Numeric;
  still_active: boolean;
  revenue: Numeric | null;
  recorded_by: string;
  created_at: Generated<Date>;
}

export interface FundingSourcesTable {
  id: string;
  fund_id: string;
  origin: string;
  programme_code: string | null;
  priority: string | null;
  label: string;
  amount_committed: Numeric;
  start_date: CalendarDateColumn;
  end_date: CalendarDateColumn | null;
  created_at: Generated<Date>;
}

export interface LoanFundingSharesTable {
  loan_id: string;
  funding_source_id: string;
  percent: Numeric;
}
// --- end of migration 018
// State aid (migration 017, docs/state-aid.md).
export interface EuBaseRatesTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  fund_id: string;
  effective_date: CalendarDateColumn;
  rate_percent: Numeric;
  created_at: Generated<Date>;
}

export interface AidGrantsTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  fund_id: string;
  structure_id: string;
  loan_id: string;
  grant_date: CalendarDateColumn;
  amount: Numeric;
  reason: string;
  legal_basis: string;
  created_at: Generated<Date>;
}

export interface DeclaredAidTable {
  id: Generated<string>;
  seq: ColumnType<string, never, never>;
  fund_id: string;
  structure_id: string;
  grantor: string;
  grant_date: CalendarDateColumn;
  amount: Numeric;
  legal_basis: string;
  created_at: Generated<Date>;
}

export interface UndertakingLinksTable {
  fund_id: string;
  structure_id: string;
  linked_id: string;
  created_at: Generated<Date>;
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
  repayments: RepaymentsTable;
  allocations: AllocationsTable;
  restructurings: RestructuringsTable;
  arrears_settlements: ArrearsSettlementsTable;
  moratoria: MoratoriaTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
  reminders: RemindersTable;
  reports: ReportsTable;
  exports: ExportsTable;
  export_chunks: ExportChunksTable;
  imports: ImportsTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  impact_snapshots: ImpactSnapshotsTable;
  funding_sources: FundingSourcesTable;
  loan_funding_shares: LoanFundingSharesTable;
  eu_base_rates: EuBaseRatesTable;
  aid_grants: AidGrantsTable;
  declared_aid: DeclaredAidTable;
  undertaking_links: UndertakingLinksTable;
  schema_migrations: { version: string; applied_at: CreatedAt };
}
