import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import type { SearchRunner } from './search.pool.js';
import * as service from './search.service.js';

/** Search over feedback, customers and interactions with text; and the choices its filters offer. */
export function searchRoutes(ctx: HttpContext, runner: SearchRunner): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'GET',
      url: '/api/search',
      summary: 'Full-text search over what customers said: feedback of every kind, customers, interactions with text',
      tags: ['Search'],
      auth: 'read',
      rateLimit: 'search',
      query: service.SearchParams,
      response: service.SearchPage,
      // On a search thread (or a read-only transaction with a time limit on PostgreSQL), after
      // what was stored since the last indexing pass is indexed with the other writes.
      handler: ({ query }) => runner.search(query),
    }),
    route({
      method: 'GET',
      url: '/api/search/filters',
      summary: 'What the search filters can be set to: kinds, themes, tags, micro-segments',
      tags: ['Search'],
      auth: 'read',
      response: service.SearchFilterChoices,
      handler: () => service.filterChoices(store),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
