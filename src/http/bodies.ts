import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { RapportError } from '../core/errors.js';

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
  const parseJson = (body: string, what: string): unknown => {
    try {
      return JSON.parse(body);
    } catch (e) {
      throw new RapportError('invalid_input', `body: expected JSON (sent as ${what}): ${(e as Error).message}`, [{ field: 'body', message: 'not JSON' }]);
    }
  };
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (req, body, done) => {
    if (!req.url.startsWith(prefix)) return done(null, body);
    try {
      done(null, parseJson(body as string, 'text/plain'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (!req.url.startsWith(prefix)) return done(null, Object.fromEntries(new URLSearchParams(text)));
    try {
      // The JSON itself, or (URL-encoded) as the only field's name or value.
      const trimmed = text.trim();
      if (trimmed.startsWith('{') || trimmed.startsWith('[')) return done(null, parseJson(trimmed, 'application/x-www-form-urlencoded'));
      const fields = [...new URLSearchParams(text)];
      const json = fields.length === 1 ? (fields[0]![1] || fields[0]![0]) : text;
      done(null, parseJson(json, 'application/x-www-form-urlencoded'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
