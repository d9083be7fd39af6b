import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { RapportError, storageError } from '../core/errors.js';

/**
 * The answers Fastify and Node give on their own, before any route runs, in Rapport's shape
 * `{ error: { code, message } }` like every other error: a path that is not a valid URL, a
 * path parameter past the router's length limit (414), a content type nothing parses (415),
 * and what Node refuses before Fastify sees a request (headers past its size limit: 431; a
 * request that is not HTTP). Also a full disk or read-only database under any route.
 */

/** The longest path parameter the router matches (find-my-way's `maxParamLength`; Fastify's default). */
export const MAX_PARAM_LENGTH = 100;

/** A Fastify error (or storage failure) as a Rapport error, or undefined for one sendError answers itself. */
export function knownError(error: unknown): RapportError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType();
  return storageError(error);
}

function unsupportedMediaType(): RapportError {
  return new RapportError('unsupported_media_type', 'content-type: not one this route reads; send JSON as application/json', [
    { field: 'content-type', message: 'unsupported media type' },
  ]);
}

/** Fastify's `frameworkErrors` option: routing's refusals, answered as Rapport's errors. */
export function frameworkError(error: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0]!;
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
  const answer =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new RapportError('uri_too_long', `url: a part of the path ${shown} is longer than ${MAX_PARAM_LENGTH} characters`, [{ field: 'url', message: `a path parameter longer than ${MAX_PARAM_LENGTH} characters` }])
      : error.code === 'FST_ERR_BAD_URL'
        ? new RapportError('invalid_input', `url: ${shown} is not a valid URL (a broken %-escape)`, [{ field: 'url', message: 'not a valid URL' }])
        : new RapportError('internal', 'internal error');
  void reply.status(answer.httpStatus).send(answer.toJSON());
}

/**
 * Fastify's `clientErrorHandler`: Node's refusals of what is not a request it can read, written
 * to the socket as Fastify's own handler does (there is no request to answer through), with
 * Rapport's body. A connection already gone gets nothing.
 */
export function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new RapportError('headers_too_large', 'headers: the request line and headers are larger than this server reads (16 KB); send a shorter URL or fewer cookies')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new RapportError('request_timeout', 'request: not received in time; send it again')
        : new RapportError('invalid_input', 'request: not a valid HTTP request');
  if (socket.writable) {
    const body = JSON.stringify(answer.toJSON());
    const status = answer.httpStatus;
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** The Fastify options that route its own refusals through this module. */
export function frameworkErrorOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'routerOptions'> {
  return { frameworkErrors: frameworkError, clientErrorHandler: clientError, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } };
}
