import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as service from './stages.service.js';
import { stagesJob } from './stages.job.js';

const UserIdParams = z.object({ userId: z.string().min(1).max(512) });
const GroupIdParams = z.object({ groupId: z.string().min(1).max(512) });
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
  ] as RouteDef<unknown, unknown, unknown>[];
}
