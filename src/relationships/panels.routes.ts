import { z } from 'zod';
import { csvFileName } from '../core/csv.js';
import type { HttpContext } from '../http/context.js';
import { sendCsv } from '../http/csv.js';
import { route, type RouteDef } from '../http/route.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import * as service from './panels.service.js';

const IdParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const MemberParams = IdParams.extend({ userId: z.string().min(1).max(512) });

/**
 * Co-creation panels: build one from filters (balanced across micro-segments, repeatable by
 * seed), move its members along (each step recorded as an interaction through the writer), and
 * read back what they said and how they bought what was under test. Reads take a read key or a
 * session; changes a signed-in team member or an admin key.
 */
export function panelsRoutes(ctx: HttpContext, writer: IngestWriter): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  const tags = ['Panels'];
  return [
    route({
      method: 'POST',
      url: '/api/panels/preview',
      summary: 'Eligible customers per micro-segment for some filters and, for a size, the seats each segment would be asked for and fill; saves nothing',
      tags,
      auth: 'read',
      body: service.PreviewBody,
      response: service.PanelPreview,
      handler: ({ body }) => service.previewPanel(store, body, ctx.clock()),
    }),
    route({
      method: 'POST',
      url: '/api/panels',
      summary: 'Build a panel: draw its members from the filters, balanced across micro-segments and repeatable for the seed (a draft)',
      tags,
      auth: 'editor',
      body: service.PanelCreate,
      response: service.Panel,
      handler: ({ body, principal }) => ctx.serialWrite(() => service.createPanel(store, body, principal?.name ?? null, ctx.clock())),
    }),
    route({
      method: 'GET',
      url: '/api/panels',
      summary: 'The panels, newest first, with their members per status',
      tags,
      auth: 'read',
      response: service.PanelList,
      handler: () => service.listPanels(store),
    }),
    route({
      method: 'GET',
      url: '/api/panels/:id',
      summary: 'One panel: its filters, what was drawn per segment, its members per status',
      tags,
      auth: 'read',
      params: IdParams,
      response: service.Panel,
      handler: ({ params }) => service.getPanel(store, params.id),
    }),
    route({
      method: 'PATCH',
      url: '/api/panels/:id',
      summary: 'Rename or describe a panel, move it along (draft → active → closed; active sets when it started), or set what is under test and its launch',
      tags,
      auth: 'editor',
      params: IdParams,
      body: service.PanelPatch,
      response: service.Panel,
      handler: ({ params, body }) => ctx.serialWrite(() => service.updatePanel(store, params.id, body, ctx.clock())),
    }),
    route({
      method: 'DELETE',
      url: '/api/panels/:id',
      summary: 'Delete a panel and its memberships (the interactions recorded for its members stay in their history)',
      tags,
      auth: 'editor',
      params: IdParams,
      response: service.DeletedPanel,
      handler: ({ params }) => ctx.serialWrite(() => service.deletePanel(store, params.id)),
    }),
    route({
      method: 'GET',
      url: '/api/panels/:id/members',
      summary: "A panel's members: segment and stage when selected, stage and CLV now, status and what it may become",
      tags,
      auth: 'read',
      params: IdParams,
      query: service.MembersQuery,
      response: service.PanelMembers,
      handler: ({ params, query }) => service.panelMembers(store, params.id, query),
    }),
    route({
      method: 'POST',
      url: '/api/panels/:id/members',
      summary: 'Add a customer to a panel by user id (status selected)',
      tags,
      auth: 'editor',
      params: IdParams,
      body: service.AddMemberBody,
      response: service.PanelMember,
      handler: ({ params, body }) => ctx.serialWrite(() => service.addMember(store, params.id, body.userId, ctx.clock())),
    }),
    route({
      method: 'PATCH',
      url: '/api/panels/:id/members/:userId',
      summary: "Move a member along (selected → invited → accepted or declined → participated); invitations, acceptances and sessions are recorded as the customer's interactions (Panel Invited, Panel Joined, Panel Session Attended)",
      tags,
      auth: 'editor',
      params: MemberParams,
      body: service.MemberStatusBody,
      response: service.MemberStatusReply,
      handler: ({ params, body }) => ctx.serialWrite(() => service.setMemberStatus(store, writer, params.id, params.userId, body, ctx.clock())),
    }),
    route({
      method: 'DELETE',
      url: '/api/panels/:id/members/:userId',
      summary: 'Take a customer off a panel (what was recorded of their invitation and answers stays in their history)',
      tags,
      auth: 'editor',
      params: MemberParams,
      response: service.Removed,
      handler: ({ params }) => ctx.serialWrite(() => service.removeMember(store, params.id, params.userId)),
    }),
    route({
      method: 'GET',
      url: '/api/panels/:id/export.csv',
      summary: "A panel's members as a CSV download (userId, email, name, segment, stage, CLV, status and when); text a spreadsheet would run as a formula is prefixed with an apostrophe",
      tags,
      auth: 'read',
      params: IdParams,
      produces: 'text/csv',
      handler: async ({ params, reply }) => {
        const e = await service.membersCsv(store, params.id);
        return sendCsv(reply, { what: 'panel members', fileName: csvFileName('panel', params.id, e.name), header: service.MEMBERS_CSV_HEADER, total: e.total, pages: e.rows });
      },
    }),
    route({
      method: 'GET',
      url: '/api/panels/:id/feedback',
      summary: "What the panel said since it started: the members' feedback, its sentiment, top themes and newest quotes",
      tags,
      auth: 'read',
      params: IdParams,
      query: service.VoicesQuery,
      response: service.PanelFeedback,
      handler: ({ params, query }) => service.panelFeedback(store, params.id, query),
    }),
    route({
      method: 'GET',
      url: '/api/panels/:id/launch',
      summary: 'How the members bought the product or category under test after its launch against what the customer-value model expected, and per segment the same for customers not on the panel (an observational comparison)',
      tags,
      auth: 'read',
      params: IdParams,
      query: service.VoicesQuery,
      response: service.PanelLaunch,
      handler: ({ params, query }) => service.launchComparison(store, params.id, query),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
