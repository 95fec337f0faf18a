import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DOCS_SECURITY_HEADERS, docsPage } from '../api/docs-page.js';
import { openApiDocument, type OpenApiDocument } from '../api/openapi.js';
import { packagePath } from '../../package-root.js';

const PACKAGE_JSON = packagePath('package.json');

/** GET /api/openapi.json and GET /api/docs: public (routes.ts says so), like the page at /. */
export function apiDocRoutes(app: FastifyInstance): void {
  // Fixed for the server's life; made on first use.
  let doc: OpenApiDocument | undefined;
  let page: string | undefined;
  const document = (): OpenApiDocument =>
    (doc ??= openApiDocument({ version: (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version }));

  app.get('/api/openapi.json', async () => document());
  app.get('/api/docs', async (_req, reply) =>
    reply.headers(DOCS_SECURITY_HEADERS).type('text/html; charset=utf-8').send((page ??= docsPage(document()))));
}
