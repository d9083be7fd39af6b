import { z } from 'zod';
import { RapportError } from '../core/errors.js';
import type { HttpContext } from '../http/context.js';
import { route, type RouteDef } from '../http/route.js';
import * as defects from './defects.js';
import * as themes from './themes.service.js';
import * as tags from './tags.service.js';
import { splitJob } from './listen.job.js';

const IdParams = z.object({ id: z.coerce.number().int().min(1) });
const SetParams = z.object({ name: z.string().trim().min(1).max(40).describe('the tag set, URL-encoded') });
const Ok = z.object({ ok: z.boolean() }).meta({ id: 'Ok' });
const SplitBody = z.object({ k: z.number().int().min(2).max(8).default(2).describe('parts') });

/** Listening: themes, tags and the review queue, the defect ledger, and analysis on demand. */
export function listeningRoutes(ctx: HttpContext): RouteDef<unknown, unknown, unknown>[] {
  const store = ctx.store;
  return [
    route({
      method: 'GET',
      url: '/api/themes',
      summary: 'The themes board: themes with volume trend, value at stake, sentiment, intents and typical quotes',
      tags: ['Listening'],
      auth: 'read',
      query: themes.ThemeListParams,
      response: themes.ThemeBoard,
      handler: ({ query }) => themes.themeBoard(store, query),
    }),
    route({
      method: 'GET',
      url: '/api/themes/:id',
      summary: "One theme and its members, newest first (a merged theme's id answers with the theme it became)",
      tags: ['Listening'],
      auth: 'read',
      params: IdParams,
      query: themes.ThemeMembersParams,
      response: themes.ThemeDetail,
      handler: ({ params, query }) => themes.themeDetail(store, params.id, query),
    }),
    route({
      method: 'PATCH',
      url: '/api/themes/:id',
      summary: 'Rename a theme (kept across runs); a null name returns to the generated label',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: themes.RenameBody,
      response: Ok,
      handler: async ({ params, body }) => {
        await ctx.serialWrite(() => themes.renameTheme(store, params.id, body.name, ctx.clock()));
        return { ok: true };
      },
    }),
    route({
      method: 'POST',
      url: '/api/themes/merge',
      summary: 'Merge themes into one; new items near any of them join it from then on',
      tags: ['Listening'],
      auth: 'editor',
      body: themes.MergeBody,
      response: Ok,
      handler: async ({ body }) => {
        await ctx.serialWrite(() => themes.mergeThemes(store, body.into, body.themes, body.name, ctx.clock()));
        return { ok: true };
      },
    }),
    route({
      method: 'POST',
      url: '/api/themes/:id/move',
      summary: 'Move members of a theme to another theme, or out of every theme (to: null); runs keep them there and send new items nearly the same after them',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: themes.MoveBody,
      response: themes.MoveResult,
      handler: async ({ params, body, principal }) => {
        const by = principal?.name ?? null;
        return ctx.serialWrite(() => themes.moveMembers(store, params.id, body.feedbackIds, body.to, by, ctx.clock()));
      },
    }),
    route({
      method: 'POST',
      url: '/api/themes/:id/split',
      summary: 'Split a theme in k parts by clustering its items again; the parts become new themes',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: SplitBody,
      response: z.object({ parts: z.array(z.number()) }).meta({ id: 'ThemeSplit' }),
      handler: async ({ params, body }) => {
        return ctx.jobs.run(splitJob, { themeId: params.id, k: body.k });
      },
    }),
    route({
      method: 'GET',
      url: '/api/tags',
      summary: 'Tag sets with their tags, examples, suggestions, the review backlog and the model state',
      tags: ['Listening'],
      auth: 'read',
      response: z.object({ tagSets: z.array(tags.TagSetSummary) }),
      handler: async () => ({ tagSets: await tags.tagSets(store) }),
    }),
    route({
      method: 'POST',
      url: '/api/tags',
      summary: 'Define tags in a tag set (existing names are kept)',
      tags: ['Listening'],
      auth: 'editor',
      body: tags.CreateTagsBody,
      response: tags.TagSetSummary,
      handler: async ({ body }) => {
        return ctx.serialWrite(() => tags.createTags(store, body, ctx.clock()));
      },
    }),
    route({
      method: 'PATCH',
      url: '/api/tags/:id',
      summary: 'Rename a tag or change its description (the set retrains at the next run: its model knows tags by name)',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: tags.RenameTagBody,
      response: Ok,
      handler: async ({ params, body }) => {
        await ctx.serialWrite(() => tags.updateTag(store, params.id, body, ctx.clock()));
        return { ok: true };
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/tags/:id',
      summary: 'Delete a tag with its examples and suggestions (the set retrains at the next run)',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      response: tags.Removed,
      handler: ({ params }) => ctx.serialWrite(() => tags.deleteTag(store, params.id, ctx.clock())),
    }),
    route({
      method: 'PATCH',
      url: '/api/tag-sets/:name',
      summary: 'Rename a tag set (its tags, item tags and model move with it)',
      tags: ['Listening'],
      auth: 'editor',
      params: SetParams,
      body: tags.RenameSetBody,
      response: Ok,
      handler: async ({ params, body }) => {
        await ctx.serialWrite(() => tags.renameTagSet(store, tags.tagSetName(params.name, 'name'), body.name));
        return { ok: true };
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/tag-sets/:name',
      summary: 'Delete a tag set: its tags, every item tag of it and its model',
      tags: ['Listening'],
      auth: 'editor',
      params: SetParams,
      response: tags.Removed,
      handler: ({ params }) => ctx.serialWrite(() => tags.deleteTagSet(store, tags.tagSetName(params.name, 'name'))),
    }),
    route({
      method: 'PUT',
      url: '/api/feedback/:id/tag',
      summary: "Tag an item (confirm or correct the model's suggestion): it becomes a training example; the answer says what it replaced, for an undo",
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: tags.LabelBody,
      response: tags.TagChange,
      handler: ({ params, body, principal }) => {
        const by = principal!.name;
        return ctx.serialWrite(() => tags.labelItem(store, params.id, body.tagSet, body.tag, by, ctx.clock()));
      },
    }),
    route({
      method: 'POST',
      url: '/api/feedback/:id/tag/undo',
      summary: 'Undo a tag change: the item gets back exactly the tag it replaced (409 when its tag changed again since)',
      tags: ['Listening'],
      auth: 'editor',
      params: IdParams,
      body: tags.UndoBody,
      response: tags.UndoResult,
      handler: async ({ params, body }) => {
        const r = await ctx.serialWrite(() => tags.undoTagChanges(store, [{ ...body, feedbackId: params.id }], ctx.clock()));
        if (r.conflicts.length > 0) throw new RapportError('conflict', `the tag of item ${params.id} in "${body.tagSet}" changed since (or the tag it had was deleted): nothing was undone`);
        return r;
      },
    }),
    route({
      method: 'GET',
      url: '/api/review-queue',
      summary: "The model's least confident tag suggestions, as questions for a person to confirm or correct",
      tags: ['Listening'],
      auth: 'read',
      query: tags.ReviewParams,
      response: tags.ReviewQueue,
      handler: ({ query }) => tags.reviewQueue(store, query),
    }),
    route({
      method: 'POST',
      url: '/api/review-queue/accept',
      summary: "Accept a set's queue suggestions at or above a confidence: they become a person's tags (examples); the answer lists the changes for an undo",
      tags: ['Listening'],
      auth: 'editor',
      body: tags.AcceptBody,
      response: tags.AcceptResult,
      handler: ({ body, principal }) => {
        const by = principal!.name;
        return ctx.serialWrite(() => tags.acceptSuggestions(store, body, by, ctx.clock()));
      },
    }),
    route({
      method: 'POST',
      url: '/api/review-queue/accept/undo',
      summary: 'Undo tag changes (a bulk accept): each item gets back the tag it replaced; items changed again since are left and listed',
      tags: ['Listening'],
      auth: 'editor',
      body: tags.UndoManyBody,
      response: tags.UndoResult,
      bodyLimit: 4 * 1024 * 1024,
      handler: ({ body }) => ctx.serialWrite(() => tags.undoTagChanges(store, body.changes, ctx.clock())),
    }),
    route({
      method: 'GET',
      url: '/api/defects',
      summary: 'The defect ledger: contacts by type × cause over time, time to resolution, churn among those affected, value lost; features vs fixes',
      tags: ['Listening'],
      auth: 'read',
      query: defects.LedgerParams,
      response: defects.DefectLedger,
      handler: ({ query }) => defects.defectLedger(store, query),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
