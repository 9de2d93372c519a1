import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of a message: `webhook-id` (the same on every attempt, for the
 * receiver to drop what it has), the attempt's timestamp, and one signature per secret, space-separated
 * (two during a rotation).
 */
export function standardWebhookHeaders(
  id: string,
  secrets: readonly string[],
  at: Date,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}
