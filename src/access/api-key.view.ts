import type { ApiKey } from './api-keys.repository';

/** Never the secret nor its hash: the secret is shown once, by createApiKey's response. */
export function apiKeyView(key: ApiKey) {
  return {
    id: key.id,
    role: key.role,
    fund_id: key.fund_id,
    structure_id: key.structure_id,
    label: key.label,
    created_at: key.created_at.toISOString(),
    revoked_at: key.revoked_at?.toISOString() ?? null,
  };
}
