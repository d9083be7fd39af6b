import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import * as service from './visits.service.js';

const IdParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const UserIdParams = z.object({ userId: z.string().min(1).max(512) });

/** Visits, calls, meetings and interviews: log one, list them, mark a planned one done or cancelled. */
export function visitsRoutes(ctx: HttpContext, writer: IngestWriter): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'POST',
      url: '/api/visits',
      summary: 'Log a visit, call, meeting or interview, planned or done; a done one is recorded as a mutual interaction, and its notes as a feedback item',
      tags: ['Relationships'],
      auth: 'editor',
      body: service.VisitBody,
      response: service.Visit,
      handler: ({ body, principal }) => ctx.serialWrite(() => service.logVisit(store, writer, body, principal?.name ?? null, ctx.clock())),
    }),
    route({
      method: 'GET',
      url: '/api/visits',
      summary: 'Visits, newest first (order=asc: soonest first), by customer, status and time, keyset-paged',
      tags: ['Relationships'],
      auth: 'read',
      query: service.VisitListParams,
      response: service.VisitPage,
      handler: ({ query }) => service.listVisits(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/visits/:id',
      summary: 'One visit',
      tags: ['Relationships'],
      auth: 'read',
      params: IdParams,
      response: service.Visit,
      handler: ({ params }) => service.getVisit(store, params.id),
    }),
    route({
      method: 'PATCH',
      url: '/api/visits/:id',
      summary: 'Mark a planned visit done (recorded then) or cancelled, or change its time, notes, length or attendees; a done visit only takes notes when it has none (409 otherwise)',
      tags: ['Relationships'],
      auth: 'editor',
      params: IdParams,
      body: service.VisitPatch,
      response: service.Visit,
      handler: ({ params, body }) => ctx.serialWrite(() => service.updateVisit(store, writer, params.id, body, ctx.clock())),
    }),
    route({
      method: 'GET',
      url: '/api/customers/:userId/visits',
      summary: "A customer's visits, newest first (order=asc: soonest first)",
      tags: ['Relationships'],
      auth: 'read',
      params: UserIdParams,
      query: service.CustomerVisitParams,
      response: service.VisitPage,
      handler: ({ params, query }) => service.listVisits(store, { ...query, customer: params.userId }),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
