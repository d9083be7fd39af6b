import { z } from 'zod';
import { describePolicy, type Policy } from './principal.js';
import { ErrorBody, type RouteDef } from './route.js';

type Json = Record<string, unknown>;

/**
 * A zod schema as OpenAPI JSON Schema. Named schemas (`.meta({ id })`) come back from zod as
 * local `definitions`; they are collected into `components.schemas` and referenced from there,
 * so that every `$ref` resolves in the document.
 */
function schemaOf(s: z.ZodType, io: 'input' | 'output', components: Record<string, Json>): Json {
  const json = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Json;
  delete json['$schema'];
  const defs = (json['definitions'] ?? {}) as Record<string, Json>;
  delete json['definitions'];
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v === null || typeof v !== 'object') return v;
    const o: Json = {};
    for (const [k, x] of Object.entries(v as Json)) o[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/definitions/', '#/components/schemas/') : rewrite(x);
    return o;
  };
  // An input and an output schema of one name can differ (defaults): the output keeps the name.
  for (const [name, d] of Object.entries(defs)) if (io === 'output' || !(name in components)) components[name] = rewrite(d) as Json;
  return rewrite(json) as Json;
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

function errorResponse(description: string): Json {
  return { description, content: { 'application/json': { schema: ERROR_REF } } };
}

/** The credentials a policy accepts. */
function securityOf(policy: Policy): Json[] {
  switch (policy) {
    case 'none':
      return [];
    case 'ingest':
      return [{ writeKey: [] }, { bearer: [] }];
    case 'read':
    case 'admin':
    case 'editor':
      return [{ bearer: [] }, { session: [] }];
  }
}

/** Builds the OpenAPI 3.0 document from the route definitions and their zod schemas. */
export function openApiDocument(routes: readonly RouteDef<unknown, unknown, unknown>[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const components: Record<string, Json> = {};
  // The error body every 4xx and 5xx answer has (a named schema: it lands in components).
  schemaOf(ErrorBody, 'output', components);
  for (const r of routes) {
    if (r.hidden) continue;
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = schemaOf(schema, 'input', components);
      const props = (js['properties'] ?? {}) as Record<string, Json>;
      const required = new Set((js['required'] ?? []) as string[]);
      for (const [name, p] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: p, ...(p['description'] ? { description: p['description'] } : {}) });
      }
    }
    const op: Json = {
      summary: r.summary,
      tags: r.tags,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input', components) } } } } : {}),
      ...(r.fileBody
        ? { requestBody: { required: true, description: r.fileBody.description, content: Object.fromEntries(r.fileBody.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary', maxLength: r.fileBody!.maxBytes } }])) } }
        : {}),
      description: `Who may call: ${describePolicy(r.auth)}.`,
      'x-rapport-auth': r.auth,
      responses: {
        '200':
          r.produces === 'text/csv'
            ? { description: 'A CSV file (RFC 4180, UTF-8, header row first) as a download', content: { 'text/csv': { schema: { type: 'string' } } } }
            : { description: 'OK', ...(r.response ? { content: { 'application/json': { schema: schemaOf(r.response, 'output', components) } } } : {}) },
        '400': errorResponse('Invalid input: the error names the field (and row)'),
        ...(r.fileBody ? { '413': errorResponse(`The file is larger than the limit (${Math.round(r.fileBody.maxBytes / 1024 / 1024)} MB)`) } : {}),
        ...(r.auth === 'none' ? {} : { '401': errorResponse('Missing or invalid credentials'), '403': errorResponse(`Credentials that do not suffice: this needs ${describePolicy(r.auth)}`) }),
      },
      security: securityOf(r.auth),
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Rapport API',
      version,
      description:
        'Customer signals in (Segment-compatible tracking API), customer intelligence out. Read endpoints take `Authorization: Bearer <key>`; tracking endpoints take HTTP Basic with the write key as user name, as Segment does.',
    },
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        writeKey: { type: 'http', scheme: 'basic', description: 'an ingest key as user name, empty password' },
        session: { type: 'apiKey', in: 'cookie', name: 'rapport_session' },
      },
    },
    paths,
  };
}
