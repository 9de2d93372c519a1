import type { WebhookEndpoint } from './webhook-endpoints.repository';

/** An endpoint as the API shows it: never its secrets (the secret is shown once, at creation or rotation). */
export function webhookEndpointView(row: WebhookEndpoint) {
  return {
    id: row.id,
    fund_id: row.fund_id,
    structure_id: row.structure_id,
    url: row.url,
    event_types: row.event_types,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since?.toISOString() ?? null,
    previous_secret_expires_at:
      row.previous_secret_until && row.previous_secret_until > new Date()
        ? row.previous_secret_until.toISOString()
        : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
