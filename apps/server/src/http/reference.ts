/**
 * The API reference (docs/reference/api.md), generated from the server's own OpenAPI document —
 * the one the request schemas produce — so that it cannot drift from what the server accepts: a
 * test regenerates it and fails when the committed file differs (`npm run docs` rewrites it).
 * Pure: a document in, Markdown out.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  description?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

/** The parts of an OpenAPI 3.1 document the reference reads. */
export interface OpenApiDocument {
  info?: { title?: string; version?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** A schema as a short type: `Run`, `string[]`, `"a" \| "b"`, `{…}`. */
export function typeOf(s: Schema | undefined): string {
  if (s === undefined) return 'any';
  if (s.$ref) return s.$ref.slice(s.$ref.lastIndexOf('/') + 1);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map(typeOf).join(' \\| ');
  if (s.allOf) return s.allOf.map(typeOf).join(' & ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type;
  if (t === 'array') return `${typeOf(s.items)}[]`;
  if (t === 'object' && s.properties) return '{…}';
  if (t === 'object' && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
  return t ?? 'any';
}

function cell(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n+/g, ' ').trim();
}

function bodySchema(content: Record<string, { schema?: Schema }> | undefined): string {
  if (!content) return '';
  return Object.entries(content)
    .map(([type, c]) => `${typeOf(c.schema)}${type === 'application/json' ? '' : ` (${type})`}`)
    .join(', ');
}

function operation(method: string, path: string, op: Operation): string[] {
  const out = [`### \`${method.toUpperCase()} ${path}\``, ''];
  if (op.summary) out.push(cell(op.summary), '');
  if (op.description && op.description !== op.summary) out.push(op.description.trim(), '');
  const params = op.parameters ?? [];
  if (params.length > 0) {
    out.push('| parameter | in | type | required |', '| --- | --- | --- | --- |');
    for (const p of params) out.push(`| \`${p.name}\` | ${p.in} | ${typeOf(p.schema)} | ${p.required ? 'yes' : 'no'} |`);
    out.push('');
  }
  const body = bodySchema(op.requestBody?.content);
  if (body) out.push(`Body: ${body}`, '');
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => `${status} ${bodySchema(r.content) || cell(r.description)}`.trim());
  if (responses.length > 0) out.push(`Responses: ${responses.join('; ')}`, '');
  return out;
}

function schemaSection(name: string, s: Schema): string[] {
  const out = [`### ${name}`, ''];
  if (s.description) out.push(cell(s.description), '');
  if (!s.properties) return [...out, `${typeOf(s)}`, ''];
  out.push('| field | type | required | description |', '| --- | --- | --- | --- |');
  const required = new Set(s.required ?? []);
  for (const [field, p] of Object.entries(s.properties)) {
    out.push(`| \`${field}\` | ${typeOf(p)} | ${required.has(field) ? 'yes' : 'no'} | ${cell(p.description)} |`);
  }
  return [...out, ''];
}

/** The reference of `doc`: every operation by tag, then every schema. */
export function apiReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const path of Object.keys(doc.paths).sort()) {
    const item = doc.paths[path] ?? {};
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), ...operation(method, path, op)]);
    }
  }
  const out = [
    '# API reference',
    '',
    '<!-- Generated from the server\'s OpenAPI document by `npm run docs` (apps/server/src/http/reference.ts); a test fails when it is out of date. Do not edit by hand: docs/api.md is the guide. -->',
    '',
  ];
  for (const tag of [...byTag.keys()].sort()) out.push(`## ${tag}`, '', ...(byTag.get(tag) ?? []));
  const schemas = doc.components?.schemas ?? {};
  out.push('## Schemas', '');
  for (const name of Object.keys(schemas).sort()) out.push(...schemaSection(name, schemas[name] ?? {}));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
