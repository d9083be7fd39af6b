import { z } from 'zod';
import type { HttpContext } from '../http/context.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import { route, type RouteDef } from '../http/route.js';
import { sendCsv } from '../http/csv.js';
import { csvFileName } from '../core/csv.js';
import * as service from './customer.service.js';

const UserIdParams = z.object({ userId: z.string().min(1).max(512) });

/** Customer 360: list, profile, timeline, erasure; and the overview the dashboard opens on. */
export function customerRoutes(ctx: HttpContext, writer: IngestWriter): RouteDef<unknown, unknown, unknown>[] {
  const db = ctx.store.db;
  return [
    route({
      method: 'GET',
      url: '/api/customers',
      summary: 'Search and page through identified customers',
      tags: ['Customers'],
      auth: 'read',
      query: service.ListParams,
      response: service.CustomerPage,
      handler: ({ query }) => service.listCustomers(ctx.store, query),
    }),
    route({
      method: 'GET',
      url: '/api/customers.csv',
      summary: 'The whole customer list as a CSV download (the same filter and order as /api/customers) with value columns, streamed page by page',
      tags: ['Customers'],
      auth: 'read',
      query: service.ListExportParams,
      produces: 'text/csv',
      handler: async ({ query, reply }) => {
        const { total, rows } = await service.customersExport(ctx.store, query);
        return sendCsv(reply, { what: 'customers', fileName: csvFileName('customers', query.q), header: service.CUSTOMERS_CSV_HEADER, total, pages: rows });
      },
    }),
    route({
      method: 'GET',
      url: '/api/customers/:userId',
      summary: 'One customer: profile, traits, accounts, totals, interactions by channel and direction',
      tags: ['Customers'],
      auth: 'read',
      params: UserIdParams,
      response: service.Customer360,
      handler: ({ params }) => service.getCustomer(ctx.store, params.userId),
    }),
    route({
      method: 'GET',
      url: '/api/customers/:userId/timeline',
      summary: "The customer's orders, interactions and feedback, newest first",
      tags: ['Customers'],
      auth: 'read',
      params: UserIdParams,
      query: service.TimelineParams,
      response: service.TimelinePage,
      handler: ({ params, query }) => service.timeline(db, params.userId, query),
    }),
    route({
      method: 'DELETE',
      url: '/api/customers/:userId',
      summary: 'Erase a customer and every trace of them (privacy requests): their rows, the words only they used in the listening models, their search documents, old page copies in the database files; the report lists what went from where',
      tags: ['Customers'],
      auth: 'admin',
      params: UserIdParams,
      response: service.ErasureReport,
      handler: async ({ params }) => {
        const result = await ctx.serialWrite(() => service.eraseCustomer(ctx.store, params.userId));
        writer.forget();
        return result;
      },
    }),
    route({
      method: 'GET',
      url: '/api/overview',
      summary: 'Totals and monthly interactions by direction',
      tags: ['Customers'],
      auth: 'read',
      response: service.Overview,
      handler: () => service.overview(ctx.store),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
