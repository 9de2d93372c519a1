import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import ipaddr from 'ipaddr.js';

/** Whether a partner's URL may reach plain http and our own networks. */
export interface OutboundPolicy {
  readonly allowInsecure: boolean;
} // true: plain http and private/loopback addresses allowed (development and tests only)

export const STRICT_OUTBOUND: OutboundPolicy = { allowInsecure: false };

/** Names that lead inside whatever they resolve to (RFC 6761 `localhost`, the clouds' metadata service). */
const INTERNAL_NAME = /^(localhost|.+\.localhost|metadata\.google\.internal)$/;

/**
 * Whether an address is one of the Internet's: ipaddr.js calls `unicast` what no special range claims
 * (loopback, private, link-local with the metadata service, CGNAT, unique-local, multicast, …).
 */
function isPublicAddress(text: string): boolean {
  return ipaddr.isValid(text) && ipaddr.process(text).range() === 'unicast'; // process(): ::ffff:127.0.0.1 is judged as 127.0.0.1
}

/** A reason the URL is refused (for a 422 naming the field), or undefined when acceptable. Text checks only, no DNS. */
export function refuseWebhookUrl(url: string, policy: OutboundPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  const schemes = policy.allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(parsed.protocol))
    return policy.allowInsecure ? 'must be an http or https URL' : 'must be an https URL';
  if (parsed.username !== '' || parsed.password !== '')
    return 'must not carry a user name or password';
  if (policy.allowInsecure) return undefined;
  // WHATWG URL has already turned 0x7f.1, 2130706433 and 0177.0.0.1 into 127.0.0.1, and lower-cased names.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (ipaddr.isValid(host) && !isPublicAddress(host))
    return 'must not name a private, loopback or otherwise internal address';
  if (INTERNAL_NAME.test(host)) return 'must not name a local or internal host';
  return undefined;
}

export interface PostOutcome {
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly error: string | null;
}

type Resolver = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

const REFUSED_ADDRESS = 'EREFUSEDADDRESS';

/**
 * net's `lookup` hook: the address checked is the one connected to, so a name that resolves to
 * 127.0.0.1 (DNS rebinding) is refused whatever its text looks like. Every address of the name must pass.
 */
function checkedLookup(resolve: Resolver) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ) => {
    resolve(hostname, { family: options.family, hints: options.hints, all: true }).then(
      (addresses) => {
        if (addresses.length === 0 || !addresses.every((a) => isPublicAddress(a.address))) {
          callback(
            Object.assign(new Error('resolves to a private address'), { code: REFUSED_ADDRESS }),
            '',
          );
        } else if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

function outcomeOf(statusCode: number): string | null {
  if (statusCode >= 200 && statusCode <= 299) return null;
  if (statusCode >= 300 && statusCode <= 399) return `redirect not followed (HTTP ${statusCode})`;
  return statusCode === 410 ? 'answered HTTP 410 Gone' : `answered HTTP ${statusCode}`;
}

/**
 * POSTs `body` (JSON) to `url` with `headers`; never throws; error is null only for a 2xx. Follows
 * no redirect, gives up after `timeoutMs` (connection and answer), reads at most `maxResponseBytes`
 * of the answer. Errors name no URL (it may carry a token).
 */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  // lookup: how names resolve (tests put their own in: nothing resolves offline); DNS otherwise.
  options: {
    policy: OutboundPolicy;
    timeoutMs: number;
    maxResponseBytes?: number;
    lookup?: Resolver;
  },
): Promise<PostOutcome> {
  const started = performance.now();
  const { policy, timeoutMs, maxResponseBytes = 64 * 1024, lookup = dnsLookup } = options;
  const refused = refuseWebhookUrl(url, policy);
  if (refused !== undefined)
    return Promise.resolve({ statusCode: null, durationMs: 0, error: `refused: ${refused}` });
  return new Promise<PostOutcome>((settle) => {
    let request: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    let done = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      response?.destroy();
      request?.destroy();
      settle({ statusCode, durationMs: Math.round(performance.now() - started), error });
    };
    // Once answered, the status decides; what follows (a slow or cut body) does not change it.
    const answered = () => finish(response!.statusCode!, outcomeOf(response!.statusCode!));
    const timer = setTimeout(
      () => (response ? answered() : finish(null, `did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const target = new URL(url);
    try {
      request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: false, // a connection per call: each one goes through the checked lookup
        headers: {
          'content-type': 'application/json',
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
        },
        ...(policy.allowInsecure ? {} : { lookup: checkedLookup(lookup) }),
      });
    } catch (error) {
      return finish(null, `could not send (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (response) answered();
      else if (error.code === REFUSED_ADDRESS)
        finish(null, 'refused: resolves to a private address');
      else finish(null, `unreachable (${error.code ?? error.name})`);
    });
    request.on('response', (answer) => {
      response = answer;
      let read = 0;
      // Counted, never kept: nothing in the body is acted on.
      answer.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= maxResponseBytes) answered();
      });
      answer.on('end', answered);
      answer.on('error', answered);
    });
    request.end(body);
  });
}
