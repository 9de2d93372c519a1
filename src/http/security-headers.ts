import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * The usual headers of an API that serves JSON to programs, never pages (helmet): nothing is to be
 * framed, sniffed for another type, run as a page or followed by a Referer; `no-store` is added
 * where a response carries a secret, by its route.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Cross-Origin-Resource-Policy stays helmet's `same-origin`: it stops other sites loading responses
    // as <img> or <script> (no-cors), not the CORS fetches of the portals (test/integration/cors-browser.test.ts).
  });
}
