import { createHash } from 'node:crypto';
import type { OpenApiDocument, OpenApiOperation } from './openapi.js';

/*
 * GET /api/docs: the OpenAPI description as one HTML page, rendered here from the document: no
 * script, no asset from elsewhere, so it reads offline and under a CSP that allows only its own
 * style sheet (by hash). Schemas are shown as the JSON Schema they are, each component once, with
 * links from every reference to it.
 */

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; max-width: 70rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; }
section.op { border: 1px solid #ddd; border-radius: 4px; padding: 0.5rem 0.8rem; margin: 0.8rem 0; }
.method { display: inline-block; min-width: 4.5rem; font-weight: bold; font-family: monospace; }
.path { font-family: monospace; font-weight: bold; }
.auth { color: #555; font-size: 0.9em; }
pre { background: #f5f5f5; padding: 0.5rem; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; } td, th { text-align: left; vertical-align: top; padding: 0.2rem 0.6rem 0.2rem 0; }
a { color: #0645ad; }
@media (prefers-color-scheme: dark) { body { background: #161616; color: #e6e6e6; } pre { background: #242424; } a { color: #8ab4f8; } section.op { border-color: #444; } }
`;

export const DOCS_STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;
export const DOCS_SECURITY_HEADERS = {
  'content-security-policy': `default-src 'none'; style-src '${DOCS_STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `code` spans for the description's backquotes, everything else escaped. */
function prose(s: string): string {
  return esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** JSON with every `$ref` to a component turned into a link to it. */
function schemaHtml(schema: unknown): string {
  return esc(JSON.stringify(schema, null, 2)).replace(/&#34;#\/components\/schemas\/([A-Za-z0-9_.-]+)&#34;/g,
    (_m, name: string) => `&#34;<a href="#schema-${name}">#/components/schemas/${name}</a>&#34;`);
}

function operationHtml(method: string, path: string, op: OpenApiOperation): string {
  const auth = (op.security as unknown[] | undefined)?.length ? 'token (Authorization: Bearer)' : 'public';
  const params = (op.parameters as Array<{ name: string; in: string; required: boolean; schema: unknown }> | undefined) ?? [];
  const body = op.requestBody as { required: boolean; content: Record<string, { schema: unknown }> } | undefined;
  const parts = [
    `<section class="op" id="op-${esc(op.operationId)}">`,
    `<div><span class="method">${method.toUpperCase()}</span> <span class="path">${esc(path)}</span> <span class="auth">${auth}</span></div>`,
    `<p>${prose(String(op.summary ?? ''))}</p>`,
    op.description ? `<p>${prose(String(op.description))}</p>` : '',
  ];
  if (params.length) {
    parts.push('<table><tr><th>parameter</th><th>in</th><th>schema</th></tr>',
      ...params.map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? '' : ' (optional)'}</td><td>${esc(p.in)}</td><td><pre>${schemaHtml(p.schema)}</pre></td></tr>`),
      '</table>');
  }
  if (body) {
    for (const [media, c] of Object.entries(body.content)) {
      parts.push(`<details><summary>request body (${esc(media)}${body.required ? '' : ', optional'})</summary><pre>${schemaHtml(c.schema)}</pre></details>`);
    }
  }
  for (const [status, res] of Object.entries(op.responses)) {
    const content = Object.entries(res.content ?? {});
    const what = content.map(([media]) => esc(media)).join(', ') || 'no body';
    parts.push(`<details><summary><b>${esc(status)}</b> ${prose(res.description)} (${what})</summary>`,
      ...content.map(([, c]) => `<pre>${schemaHtml(c.schema)}</pre>`), '</details>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

export function docsPage(doc: OpenApiDocument): string {
  const info = doc.info as { title: string; version: string; description: string };
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = String((op.tags as string[] | undefined)?.[0] ?? 'other');
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, op)]);
    }
  }
  const schemas = Object.entries(doc.components.schemas).map(([name, s]) =>
    `<section class="op" id="schema-${esc(name)}"><div class="path">${esc(name)}</div><pre>${schemaHtml(s)}</pre></section>`);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(info.title)} API</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(info.title)} API</h1><p>OpenAPI ${esc(String(doc.openapi))}, version ${esc(info.version)}: <a href="/api/openapi.json">/api/openapi.json</a></p>`,
    `<p>${prose(info.description)}</p>`,
    '<nav><ul>', ...[...byTag.keys()].map((t) => `<li><a href="#tag-${esc(t)}">${esc(t)}</a></li>`), '<li><a href="#schemas">schemas</a></li></ul></nav>',
    ...[...byTag].flatMap(([tag, ops]) => [`<h2 id="tag-${esc(tag)}">${esc(tag)}</h2>`, ...ops]),
    '<h2 id="schemas">schemas</h2>', ...schemas,
    '</body></html>',
  ].join('\n');
}
