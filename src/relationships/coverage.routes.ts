import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as service from './coverage.service.js';

/** Listening coverage of the most valuable customers: two-way contact, unanswered feedback, visits; alerts with how each was computed. */
export function coverageRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  return [
    route({
      method: 'GET',
      url: '/api/coverage',
      summary: 'For the most valuable customers (top N by CLV, or a CLV band): the last two-way contact, unanswered feedback, past and planned visits, and alerts with their basis',
      tags: ['Relationships'],
      auth: 'read',
      query: service.CoverageParams,
      response: service.CoverageReport,
      handler: ({ query }) => service.coverage(ctx.store, query, ctx.clock()),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
