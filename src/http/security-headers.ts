import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * The usual headers of an API that serves JSON to programs, never pages (helmet): nothing is to be
 * framed, sniffed for another type, run as a page or followed by a Referer; `no-store` is added
 * where a response carries a secret, by its route.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Cross-Origin-Resource-Policy stays helmet's `same-origin`: it stops other sites loading responses
    // as <img> or <script> (no-cors), not the CORS fetches of the portals (test/integration/cors-browser.test.ts).
  });
}

/**
 * The one page the service serves, GET /docs (Swagger UI), replaces the policy above with the least
 * it runs under: its script and styles from this origin, `data:` images (the icons swagger-ui.css
 * draws), fetches to this origin (the contract, "Try it out"). No 'unsafe-inline' and no
 * 'unsafe-eval': the page has no inline script or style element, and the styles Swagger UI sets on
 * elements go through the DOM, which CSP does not restrict (test/integration/api-docs-browser.test.ts
 * records any violation).
 */
export function docsSecurityHeaders(): RequestHandler {
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });
}
