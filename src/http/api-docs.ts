import path from 'node:path';
import { Router } from 'express';
// Not the package's main module: that one evaluates the 1.8 MB browser bundle in Node (about 1 s
// and 13 MB of heap, measured), to export this same function beside it.
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path.js';
import { docsSecurityHeaders } from './security-headers';

const ASSETS_URL = '/docs/assets';

/** The files of swagger-ui-dist the page loads, and nothing else of the folder (no demo page, no source maps). */
const SWAGGER_UI_FILES = new Set([
  'swagger-ui-bundle.js',
  'swagger-ui.css',
  'index.css',
  'favicon-32x32.png',
]);

/**
 * The page: no inline script or style, so that the Content-Security-Policy can forbid both. Absolute
 * URLs, as Express serves the page at /docs and /docs/ alike.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference — Solidarity loan servicing</title>
<link rel="stylesheet" href="${ASSETS_URL}/swagger-ui.css">
<link rel="stylesheet" href="${ASSETS_URL}/index.css">
<link rel="icon" type="image/png" href="${ASSETS_URL}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_URL}/swagger-initializer.js"></script>
</body>
</html>
`;

/**
 * Swagger UI on the contract this service serves. "Try it out" calls this same origin (openapi.yaml's
 * server is "/"), with the key given to "Authorize" as a bearer token; the key stays in the page's
 * memory only (no persistAuthorization: a key in localStorage would outlive the visit). No online
 * validator: the page calls nothing but this service.
 */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    persistAuthorization: false,
    validatorUrl: null
  });
});
`;

/**
 * GET /docs: the API reference to read in a browser, public, with everything it needs served from
 * here. Only the page gets the docs' Content-Security-Policy: a policy is enforced in the document
 * whose response carries it, so the scripts and styles keep the API's `default-src 'none'`.
 */
export function apiDocs(): Router {
  const router = Router();
  const folder = getAbsoluteFSPath();
  router.get('/docs', docsSecurityHeaders(), (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get(`${ASSETS_URL}/swagger-initializer.js`, (_req, res) => {
    res.type('text/javascript').send(INITIALIZER);
  });
  router.get(`${ASSETS_URL}/:file`, (req, res, next) => {
    if (!SWAGGER_UI_FILES.has(req.params.file)) return next();
    res.sendFile(path.join(folder, req.params.file));
  });
  return router;
}
