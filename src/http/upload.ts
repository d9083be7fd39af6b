import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid, RapportError } from '../core/errors.js';

/**
 * File uploads as plain request bodies: the file's bytes, sent with the content type of the
 * file (`text/csv`, `application/x-ndjson`) or `application/octet-stream`, options in the
 * query string. No multipart parsing and nothing held in memory: the body streams to a file.
 * These content types are not ones a cross-site form can send, so a browser asks first (CORS)
 * before it sends one with the session cookie.
 */
export const FILE_CONTENT_TYPES = ['text/csv', 'application/x-ndjson', 'application/jsonl', 'application/octet-stream'] as const;

/** Lets the file content types through unparsed: the route's handler streams them ({@link receiveFile}). */
export function acceptFileBodies(app: FastifyInstance): void {
  app.addContentTypeParser([...FILE_CONTENT_TYPES], (_req, payload, done) => done(null, payload));
}

const tooLarge = (maxBytes: number): RapportError =>
  new RapportError('file_too_large', `body: the file is larger than the ${formatBytes(maxBytes)} limit of this server (RAPPORT_IMPORT_MAX_MB)`, [{ field: 'body', message: `larger than ${maxBytes} bytes` }]);

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MB` : `${Math.round(n / 1024)} KB`;
}

/**
 * Streams the request's body to `file`, at most `maxBytes` of it: a larger body is refused
 * with `file_too_large` (413) from its Content-Length before anything is read, or as soon as
 * the bytes that arrived pass the limit (the rest is drained and dropped). An empty body or
 * one of another content type is `invalid_input` naming `body`. Returns the bytes written.
 */
export async function receiveFile(req: FastifyRequest, file: string, maxBytes: number): Promise<number> {
  const body = req.body;
  if (!(body instanceof Readable)) {
    throw invalid('body', `send the file itself as the body, with Content-Type ${FILE_CONTENT_TYPES.join(', ')}`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.resume();
    throw tooLarge(maxBytes);
  }
  let bytes = 0;
  // Not stream.pipeline: on an error it destroys the request, and with it the connection the
  // 413 must go back on. Past the limit the rest is drained and dropped instead.
  await new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(file);
    let ended = false;
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      body.unpipe();
      body.resume();
      out.destroy();
      reject(e);
    };
    body.on('data', (chunk: Buffer) => {
      if (failed) return;
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(tooLarge(maxBytes));
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      ended = true;
      if (!failed) out.end();
    });
    body.once('close', () => {
      if (!ended) fail(new RapportError('invalid_input', 'body: the upload did not arrive whole (the connection closed)', [{ field: 'body', message: 'incomplete upload' }]));
    });
    body.once('error', (e) => fail(new RapportError('invalid_input', `body: the upload did not arrive whole (${e.message})`, [{ field: 'body', message: 'incomplete upload' }])));
    out.once('error', (e) => fail(e));
    out.once('finish', () => {
      if (!failed) resolve();
    });
  });
  if (bytes === 0) throw invalid('body', 'the file is empty');
  return bytes;
}
