import type { FieldError } from '../domain/errors';
import { refuseWebhookUrl, type OutboundPolicy } from './outbound';

/** The `webhook_url` a fund or structure registers, judged before it is kept (null or absent: none). */
export function webhookUrlErrors(
  url: string | null | undefined,
  policy: OutboundPolicy,
): FieldError[] {
  const refused = url == null ? undefined : refuseWebhookUrl(url, policy);
  return refused === undefined ? [] : [{ field: 'webhook_url', message: refused }];
}
