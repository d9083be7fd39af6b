import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { RapportError } from '../core/errors.js';
import { checkedJson, decodeUtf8Body, jsonProblem, jsonProblemError, parseJsonBody } from '../core/json.js';

/**
 * Request bodies as tracking clients send them in practice, on the routes under `prefix`:
 * compressed with `Content-Encoding: gzip` (or deflate), and JSON sent as `text/plain` or
 * `application/x-www-form-urlencoded` (browsers' `sendBeacon`, some server libraries) as well
 * as `application/json`. The route's body limit counts the bytes after decompression, so a
 * small compressed body cannot unpack past it. Elsewhere, text and form bodies are left as the
 * server would read them without this.
 */
export function acceptTrackingBodies(app: FastifyInstance, prefix: string): void {
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (!req.url.startsWith(prefix)) return payload;
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding !== 'gzip' && encoding !== 'deflate' && encoding !== 'x-gzip') {
      throw new RapportError('invalid_input', `content-encoding: expected gzip, deflate or none, got "${encoding.slice(0, 40)}"`, [{ field: 'content-encoding', message: 'unsupported encoding' }]);
    }
    const unpack = encoding === 'deflate' ? createInflate() : createGunzip();
    // Fastify checks Content-Length against what arrived: the compressed bytes.
    let encoded = 0;
    payload.on('data', (b: Buffer) => {
      encoded += b.length;
      (unpack as unknown as { receivedEncodedLength: number }).receivedEncodedLength = encoded;
    });
    payload.on('error', (e) => unpack.destroy(e));
    unpack.on('error', () => undefined);
    payload.pipe(unpack);
    return unpack;
  });
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (req, body, done) => {
    if (!req.url.startsWith(prefix)) return done(null, (body as Buffer).toString('utf8'));
    try {
      done(null, parseJsonBody(body as Buffer, 'text/plain'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      const text = decodeUtf8Body(body as Buffer);
      if (!req.url.startsWith(prefix)) return done(null, Object.fromEntries(new URLSearchParams(text)));
      // The JSON itself, or (URL-encoded) as the only field's name or value.
      const sentAs = 'application/x-www-form-urlencoded';
      const trimmed = text.trim();
      if (trimmed.startsWith('{') || trimmed.startsWith('[')) return done(null, checkedJson(trimmed, sentAs));
      const fields = [...new URLSearchParams(text)];
      const json = fields.length === 1 ? (fields[0]![1] || fields[0]![0]) : text;
      done(null, checkedJson(json, sentAs));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/**
 * JSON bodies on every route, parsed by core/json.ts rather than Fastify's own parser: the
 * answer to bytes that are not UTF-8 names the byte offset, and to a `__proto__` or
 * `constructor.prototype` key (which Fastify refuses as "Body is not valid JSON") or a NUL character it
 * names the field. The query string and path parameters get the same check of what they hold.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, 'application/json'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addHook('preValidation', async (req) => {
    for (const [where, value] of [['query', req.query], ['params', req.params]] as const) {
      const problem = jsonProblem(value, where);
      if (problem) throw jsonProblemError(problem);
    }
  });
}
