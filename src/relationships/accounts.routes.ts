import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as service from './accounts.service.js';

const GroupIdParams = z.object({ groupId: z.string().min(1).max(512) });

/** Accounts (Segment groups): the list, most valuable first, and one account's stage, people and value. */
export function accountsRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'GET',
      url: '/api/accounts',
      summary: "Accounts most valuable first (by their people's Lifetime Opportunity Value at the latest stages run), with stage and people; filtered by name or group id",
      tags: ['Relationships'],
      auth: 'read',
      query: service.AccountListParams,
      response: service.AccountList,
      handler: ({ query }) => service.listAccounts(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/accounts/:groupId',
      summary: "One account: traits, its stage from its people and why, people per stage, LOV and opportunity, and its people most valuable first (paged by cursor)",
      tags: ['Relationships'],
      auth: 'read',
      params: GroupIdParams,
      query: service.AccountParams,
      response: service.AccountReply,
      handler: ({ params, query }) => service.accountOf(store, params.groupId, query),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
