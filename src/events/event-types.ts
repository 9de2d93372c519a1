/**
 * Every type of event a partner can receive (README "Events and webhooks"; openapi.yaml `webhooks:`
 * has each one's payload). A closed list: an endpoint subscribes to some of these.
 */
export const EVENT_TYPES = [
  'loan.created',
  'loan.disbursed',
  'loan.cancelled',
  'loan.restructured',
  'loan.written_off',
  'loan.repaid',
  'loan.overdue',
  'repayment.recorded',
  'repayment.reversed',
  'reminder.before_due',
  'reminder.after_due',
  'report.completed',
  'webhook_endpoint.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
