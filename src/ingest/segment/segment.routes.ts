import { z } from 'zod';
import { DEFAULT_FUTURE_DAYS, timeWindow } from '../../core/limits.js';
import type { HttpContext } from '../../http/context.js';
import type { GroupCommit } from '../group.js';
import { route, type RouteDef } from '../../http/route.js';
import {
  BatchSchema,
  MAX_BATCH_BYTES,
  MAX_MESSAGE_BYTES,
  MESSAGE_TYPES,
  normalizeBatch,
  normalizeMessage,
  SCHEMAS,
  type MessageType,
} from './segment.js';

const Success = z.object({ success: z.literal(true) });
const SOURCE = 'segment';

/**
 * The Segment HTTP Tracking API: the official clients (analytics-node, analytics.js with a
 * custom host) deliver here unchanged. Validation is all-or-nothing per request.
 */
export function segmentRoutes(ctx: HttpContext, ingest: GroupCommit, limits: { futureDays?: number | undefined } = {}): RouteDef<unknown, unknown, unknown>[] {
  const futureDays = limits.futureDays ?? DEFAULT_FUTURE_DAYS;
  /** What a request received now may carry: times from 1900 to `futureDays` past now (core/limits.ts). */
  const received = () => {
    const receivedAt = ctx.clock();
    return { source: SOURCE, receivedAt, window: timeWindow(receivedAt, futureDays), live: true };
  };
  const single = (type: MessageType) =>
    route<unknown, unknown, unknown>({
      method: 'POST',
      url: `/v1/${type}`,
      summary: `Segment ${type} call`,
      tags: ['Tracking (Segment-compatible)'],
      auth: 'ingest',
      rateLimit: 'ingest',
      body: SCHEMAS[type],
      response: Success,
      bodyLimit: MAX_MESSAGE_BYTES,
      documentOnlyBody: true,
      handler: async ({ req }) => {
        const records = normalizeMessage(type, req.body, received());
        await ingest.write(records);
        return { success: true as const };
      },
    });
  const batch = (url: string) =>
    route<unknown, unknown, unknown>({
      method: 'POST',
      url,
      summary: 'Segment batch: up to 500 KB of messages of any type',
      tags: ['Tracking (Segment-compatible)'],
      auth: 'ingest',
      rateLimit: 'ingest',
      body: BatchSchema,
      response: Success,
      bodyLimit: MAX_BATCH_BYTES,
      documentOnlyBody: true,
      handler: async ({ req }) => {
        // Fastify's bodyLimit has already refused bodies over MAX_BATCH_BYTES (a 400 that says so).
        const length = Number(req.headers['content-length']);
        const records = normalizeBatch(req.body, {
          ...received(),
          ...(Number.isFinite(length) && length > 0 ? { bodyBytes: length } : {}),
        });
        await ingest.write(records);
        return { success: true as const };
      },
    });
  return [...MESSAGE_TYPES.map(single), batch('/v1/batch'), batch('/v1/import')];
}
