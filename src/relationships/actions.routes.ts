import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import { actionsJob } from './actions.job.js';
import * as service from './actions.service.js';

const IdParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const RunResult = z.object({ runId: z.number(), customers: z.number(), actions: z.number(), byKind: z.record(z.string(), z.number()), seconds: z.number() }).meta({ id: 'ActionsRunResult' });

/** Next best relationship actions: the list, marking one done (an interaction is recorded) or dismissed, a run on demand. */
export function actionsRoutes(ctx: HttpContext, writer: IngestWriter): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  const tags = ['Relationships'];
  return [
    route({
      method: 'GET',
      url: '/api/actions',
      summary: 'Next best relationship actions, one per customer, most at stake first, each with its reasons and value',
      tags,
      auth: 'read',
      query: service.ActionParams,
      response: service.ActionList,
      handler: ({ query }) => service.listActions(store, query),
    }),
    route({
      method: 'POST',
      url: '/api/actions/:id/done',
      summary: 'Mark an action done: the interaction it was (a ticket answered, an invitation sent, a call) is recorded for the customer',
      tags,
      auth: 'editor',
      params: IdParams,
      body: service.CloseBody,
      response: service.CloseReply,
      handler: ({ params, body, principal }) => ctx.serialWrite(() => service.closeAction(store, writer, params.id, 'done', body, principal?.name ?? null, ctx.clock())),
    }),
    route({
      method: 'POST',
      url: '/api/actions/:id/dismiss',
      summary: 'Dismiss an action (not suggested again for 30 days)',
      tags,
      auth: 'editor',
      params: IdParams,
      body: service.CloseBody,
      response: service.CloseReply,
      handler: ({ params, body, principal }) => ctx.serialWrite(() => service.closeAction(store, writer, params.id, 'dismissed', body, principal?.name ?? null, ctx.clock())),
    }),
    route({
      method: 'POST',
      url: '/api/actions/run',
      summary: 'Find the next best actions now (it also runs after each stages run)',
      tags,
      auth: 'admin',
      response: RunResult,
      handler: async () => {
        const { runId, report } = await ctx.jobs.run(actionsJob, { trigger: 'api' });
        return { runId, customers: report.customers, actions: report.actions, byKind: report.byKind, seconds: report.timings.totalMs / 1000 };
      },
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
