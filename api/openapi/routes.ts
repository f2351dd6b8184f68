/**
 * `GET /openapi.json` (the document) and `GET /docs` (a self-contained interactive page: no CDN,
 * so it works on the embedded stack without internet). The page's CSP allows only its own inline
 * script and style, by hash, and requests to this origin.
 */
import { createHash } from 'node:crypto';
import { Router } from 'express';
import type { Config } from '../../config';
import { DOCS_SCRIPT, DOCS_STYLE, docsHtml } from './docs-page';
import { buildOpenApiDocument } from './document';

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export function openApiRoutes({ config }: { config: Pick<Config, 'API_PUBLIC_URL'> }): Router {
  const router = Router();
  const document = JSON.stringify(buildOpenApiDocument(config));
  const html = docsHtml();
  const csp = `default-src 'none'; script-src ${sha256(DOCS_SCRIPT)}; style-src ${sha256(DOCS_STYLE)}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

  router.get('/openapi.json', (_req, res) => {
    // Public and the same for everyone: cacheable, unlike the API's responses.
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(document);
  });

  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.type('text/html').send(html);
  });

  return router;
}
