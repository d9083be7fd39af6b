import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as service from './search.service.js';

/** Search over feedback, customers and interactions with text; and the choices its filters offer. */
export function searchRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
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
      // Records stored since the last indexing pass are indexed first, with the other writes.
      handler: ({ query }) => service.search(store, query, { catchUp: (fn) => ctx.serialWrite(fn) }),
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
