// PLACEHOLDER until the outbound guard lands (branch h-outbound): same exported API.
export interface OutboundPolicy { readonly allowInsecure: boolean }
export const STRICT_OUTBOUND: OutboundPolicy = { allowInsecure: false };
export function refuseWebhookUrl(url: string, policy: OutboundPolicy): string | undefined {
  let parsed: URL;
  try { parsed = new URL(url); } catch { return 'must be an absolute URL'; }
  if (parsed.protocol !== 'https:' && !(policy.allowInsecure && parsed.protocol === 'http:')) return 'must be https';
  return undefined;
}
export interface PostOutcome { readonly statusCode: number | null; readonly durationMs: number; readonly error: string | null }
export async function postJson(url: string, body: string, headers: Record<string, string>, options: { policy: OutboundPolicy; timeoutMs: number; maxResponseBytes?: number }): Promise<PostOutcome> {
  const started = performance.now();
  try {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
    await response.body?.cancel();
    const durationMs = Math.round(performance.now() - started);
    const ok = response.status >= 200 && response.status <= 299;
    return { statusCode: response.status, durationMs, error: ok ? null : `answered HTTP ${response.status}` };
  } catch (error) {
    return { statusCode: null, durationMs: Math.round(performance.now() - started), error: `unreachable (${(error as { name?: string }).name})` };
  }
}
