import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import { sendCsv } from '../http/csv.js';
import { csvFileName } from '../core/csv.js';
import * as service from './value.service.js';
import { clvJob } from './value.job.js';

const RunResult = z.object({ runId: z.number(), asOf: z.string(), customers: z.number(), orders: z.number(), seconds: z.number(), warnings: z.array(z.string()) }).meta({ id: 'ClvRunResult' });

/** Customer value: the latest run's summary, ranked customers, and a run on demand. */
export function valueRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'GET',
      url: '/api/clv/summary',
      summary: 'Customer value: model parameters, fit diagnostics, validation against a holdout, distribution, RFM groups',
      tags: ['Customer value'],
      auth: 'read',
      response: service.ClvSummary,
      handler: () => service.clvSummary(store),
    }),
    route({
      method: 'GET',
      url: '/api/clv/currency',
      summary: 'The currency every value figure is in (the currency of most order value), and the order value per currency',
      tags: ['Customer value'],
      auth: 'read',
      response: service.CurrencyReply,
      handler: () => service.valueCurrency(store),
    }),
    route({
      method: 'GET',
      url: '/api/clv/customers',
      summary: 'Customers ranked by CLV (top value) or by value at risk (valuable and slipping away)',
      tags: ['Customer value'],
      auth: 'read',
      query: service.RankParams,
      response: service.RankedPage,
      handler: ({ query }) => service.rankCustomers(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/clv/customers.csv',
      summary: 'The whole ranking as a CSV download (the same filters as /api/clv/customers), streamed page by page',
      tags: ['Customer value'],
      auth: 'read',
      query: service.RankExportParams,
      produces: 'text/csv',
      handler: async ({ query, reply }) => {
        const { total, rows } = await service.rankedExport(store, query);
        const fileName = csvFileName(query.sort === 'clv' ? 'most-valuable' : 'value-at-risk', query.group, query.segment === undefined ? undefined : `segment-${query.segment}`);
        return sendCsv(reply, { what: 'ranked customers', fileName, header: service.RANKED_CSV_HEADER, total, pages: rows });
      },
    }),
    route({
      method: 'POST',
      url: '/api/clv/run',
      summary: 'Recompute customer value now (it also runs after new orders and daily)',
      tags: ['Customer value'],
      auth: 'admin',
      response: RunResult,
      handler: async () => {
        const { runId, report } = await ctx.jobs.run(clvJob, { trigger: 'api' });
        return { runId, asOf: report.asOf, customers: report.customers, orders: report.orders, seconds: report.timings.totalMs / 1000, warnings: report.warnings };
      },
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
