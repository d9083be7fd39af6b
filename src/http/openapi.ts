import { z } from 'zod';
import type { RouteDef } from './route.js';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Json;
  delete json['$schema'];
  return json;
}

/** Builds the OpenAPI 3.0 document from the route definitions and their zod schemas. */
export function openApiDocument(routes: readonly RouteDef<unknown, unknown, unknown>[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    if (r.hidden) continue;
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = schemaOf(schema, 'input');
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
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses: {
        '200': { description: 'OK', ...(r.response ? { content: { 'application/json': { schema: schemaOf(r.response, 'output') } } } : {}) },
        '400': { description: 'Invalid input: the error names the field (and row)' },
        ...(r.auth === 'none' ? {} : { '401': { description: 'Missing or invalid credentials' }, '403': { description: 'Key of the wrong scope' } }),
      },
      ...(r.auth === 'none' ? { security: [] } : { security: r.auth === 'ingest' ? [{ writeKey: [] }, { bearer: [] }] : [{ bearer: [] }, { session: [] }] }),
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
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        writeKey: { type: 'http', scheme: 'basic', description: 'an ingest key as user name, empty password' },
        session: { type: 'apiKey', in: 'cookie', name: 'rapport_session' },
      },
    },
    paths,
  };
}
