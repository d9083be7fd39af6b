import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as service from './stages.service.js';
import { stagesJob } from './stages.job.js';
import { historyJob } from './history.job.js';
import * as history from './history.service.js';

const UserIdParams = z.object({ userId: z.string().min(1).max(512) });
const GroupIdParams = z.object({ groupId: z.string().min(1).max(512) });
const HistoryRunResult = z
  .object({ runId: z.number(), asOf: z.string(), months: z.object({ first: z.string(), last: z.string(), count: z.number() }), mode: z.enum(['full', 'incremental']), why: z.string(), customers: z.number(), read: z.number(), seconds: z.number() })
  .meta({ id: 'StageHistoryRunResult' });
const HistoryRunBody = z.object({ full: z.boolean().default(false).describe('read every customer again even when only some have new rows (as `rapport stages history --full`)') }).meta({ id: 'StageHistoryRunBody' });
const RunResult = z.object({ runId: z.number(), asOf: z.string(), customers: z.number(), stages: z.array(z.object({ key: z.string(), name: z.string(), customers: z.number() })), seconds: z.number() }).meta({ id: 'StagesRunResult' });

/** Relationships: the LOVE ladder, a customer's or an account's stage explained, the rules, a run on demand. */
export function stagesRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'GET',
      url: '/api/stages/summary',
      summary: 'The LOVE ladder: customers, momentum, accounts and CLV per stage, from the latest stages run',
      tags: ['Relationships'],
      auth: 'read',
      response: service.StagesSummary,
      handler: () => service.stagesSummary(store),
    }),
    route({
      method: 'GET',
      url: '/api/stages/customers',
      summary: 'Customers at a stage (and momentum), most valuable first',
      tags: ['Relationships'],
      auth: 'read',
      query: service.StageListParams,
      response: service.StageCustomers,
      handler: ({ query }) => service.customersAt(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/customers/:userId/stage',
      summary: "A customer's stage, momentum and why: each rule with their values, and what is missing for the next stage",
      tags: ['Relationships'],
      auth: 'read',
      params: UserIdParams,
      response: service.CustomerStageReply,
      handler: ({ params }) => service.customerStageOf(store, params.userId),
    }),
    route({
      method: 'GET',
      url: '/api/accounts/:groupId/stage',
      summary: "An account's stage from its people, and its people with theirs",
      tags: ['Relationships'],
      auth: 'read',
      params: GroupIdParams,
      response: service.AccountStageReply,
      handler: ({ params }) => service.accountStageOf(store, params.groupId),
    }),
    route({
      method: 'GET',
      url: '/api/stages/rules',
      summary: 'The stage rules in force (YAML), their stages and the saved versions',
      tags: ['Relationships'],
      auth: 'read',
      response: service.RulesReply,
      handler: () => service.rulesReply(store),
    }),
    route({
      method: 'POST',
      url: '/api/stages/rules/check',
      summary: 'Check a rules file without saving it: every issue with its line and rule',
      tags: ['Relationships'],
      auth: 'read',
      body: service.RulesBody,
      response: service.RulesCheck,
      handler: async ({ body }) => service.checkRulesText(body.source),
    }),
    route({
      method: 'PUT',
      url: '/api/stages/rules',
      summary: 'Replace the stage rules with a new version (a file with errors is refused whole with 400, every issue with its line)',
      tags: ['Relationships'],
      auth: 'admin',
      body: service.RulesBody,
      response: service.RulesReply,
      handler: ({ body, principal }) => service.saveRulesText(store, body.source, principal?.name ?? null),
    }),
    route({
      method: 'POST',
      url: '/api/stages/run',
      summary: 'Place every customer on the ladder now (it also runs after new data and daily)',
      tags: ['Relationships'],
      auth: 'admin',
      response: RunResult,
      handler: async () => {
        const { runId, report } = await ctx.jobs.run(stagesJob, { trigger: 'api' });
        return { runId, asOf: report.asOf, customers: report.customers, stages: report.stages, seconds: report.timings.totalMs / 1000 };
      },
    }),
    route({
      method: 'GET',
      url: '/api/stages/opportunities',
      summary: 'The customers whose move up one stage is worth most: opportunity with its interval, CLV, contributions and LOV',
      tags: ['Relationships'],
      auth: 'read',
      query: service.OpportunityParams,
      response: service.Opportunities,
      handler: ({ query }) => service.topOpportunities(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/stages/flow',
      summary: 'How customers moved between stages from one month-end to another (default: the last twelve months), step by step and straight from `from` to `to`',
      tags: ['Relationships'],
      auth: 'read',
      query: history.FlowParams,
      response: history.FlowReply,
      handler: ({ query }) => history.stageFlow(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/stages/history',
      summary: 'The monthly stage history: customers per stage per month, cohorts by first-seen month, time to reach each stage (Kaplan–Meier), usual stays, falls and moves up',
      tags: ['Relationships'],
      auth: 'read',
      response: history.HistoryReply,
      handler: () => history.stageHistory(store),
    }),
    route({
      method: 'GET',
      url: '/api/stages/history/customers',
      summary: 'Customers stuck at a stage (there longer than the usual stay) or who fell back below the highest stage they held, most valuable first',
      tags: ['Relationships'],
      auth: 'read',
      query: history.HistoryListParams,
      response: history.HistoryList,
      handler: ({ query }) => history.historyList(store, query),
    }),
    route({
      method: 'POST',
      url: '/api/stages/history/run',
      summary: 'Recompute the monthly stage history now (incremental when only some customers have new rows; it also runs after new data)',
      tags: ['Relationships'],
      auth: 'admin',
      body: HistoryRunBody,
      response: HistoryRunResult,
      handler: async ({ body }) => {
        const { runId, report } = await ctx.jobs.run(historyJob, { trigger: 'api', ...(body.full ? { full: true } : {}) });
        return { runId, asOf: report.asOf, months: report.months, mode: report.mode, why: report.why, customers: report.customers, read: report.read, seconds: report.timings.totalMs / 1000 };
      },
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
