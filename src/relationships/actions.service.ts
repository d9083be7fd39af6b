/**
 * Next best relationship actions as readers see them, and marking one done (which records the
 * interaction it was) or dismissed.
 */
import { z } from 'zod';
import { notFound, RapportError } from '../core/errors.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import { ACTION_KINDS, DONE_EVENTS, type ActionKind } from '../models/stages/actions.js';
import { STAGE_KEYS } from '../models/stages/rules.js';
import type { Store } from '../store/db.js';
import * as repo from './actions.repository.js';
import { customerByUserId } from './stages.repository.js';

export const ActionParams = z.object({
  status: z.enum(['open', 'done', 'dismissed']).default('open'),
  kind: z.enum(ACTION_KINDS).optional(),
  stage: z.enum(STAGE_KEYS).optional(),
  customer: z.string().min(1).max(512).optional().describe('a customer’s user id'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const ActionItem = z
  .object({
    id: z.number(),
    customer: z.object({ userId: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }),
    kind: z.enum(ACTION_KINDS),
    title: z.string(),
    reasons: z.array(z.string()),
    value: z.number().describe('what is at stake, in the value currency'),
    valueBasis: z.string().describe('what the value is: opportunity of moving up, value at risk, CLV or contributions'),
    stage: z.enum(STAGE_KEYS),
    status: z.enum(['open', 'done', 'dismissed']),
    createdAt: z.string(),
    doneAt: z.string().nullable(),
    doneBy: z.string().nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'RelationshipAction' });

export const ActionList = z
  .object({
    items: z.array(ActionItem),
    open: z.record(z.string(), z.number()).describe('open actions per kind'),
    basis: z.string(),
  })
  .meta({ id: 'RelationshipActions' });

const iso = (t: number | null): string | null => (t === null ? null : new Date(Number(t)).toISOString());

function item(r: repo.ActionRow): z.infer<typeof ActionItem> {
  return {
    id: Number(r.id),
    customer: { userId: r.user_id, name: r.name, email: r.email },
    kind: r.kind as ActionKind,
    title: r.title,
    reasons: JSON.parse(r.reasons) as string[],
    value: Number(r.value),
    valueBasis: r.value_basis,
    stage: STAGE_KEYS[Number(r.stage)]!,
    status: r.status,
    createdAt: iso(Number(r.created_at))!,
    doneAt: iso(r.done_at),
    doneBy: r.done_by,
    note: r.note,
  };
}

export async function listActions(store: Store, q: z.infer<typeof ActionParams>): Promise<z.infer<typeof ActionList>> {
  let customerId: number | undefined;
  if (q.customer !== undefined) {
    const c = await customerByUserId(store.db, q.customer);
    if (!c) throw notFound(`customer ${q.customer}`);
    customerId = c.id;
  }
  const [rows, counts] = await Promise.all([
    repo.listActions(store.db, { status: q.status, kind: q.kind, stage: q.stage === undefined ? undefined : STAGE_KEYS.indexOf(q.stage), customerId, limit: q.limit, offset: q.offset }),
    repo.countOpenActions(store.db),
  ]);
  return {
    items: rows.map(item),
    open: Object.fromEntries(counts.map((c) => [c.kind, c.n])),
    basis:
      'One action per customer, for the customers most worth a look (the largest opportunities of moving up, the cooling relationships with the most at risk, open tickets), most at stake first: an unanswered ticket before anything else, then a renewal call, then by value. Marking one done records the interaction it was; an action done is not suggested again for 30 days.',
  };
}

export const CloseBody = z.object({
  note: z.string().max(2000).optional(),
  at: z.iso.datetime({ offset: true }).optional().describe('when it was done (default now)'),
});

export const CloseReply = z
  .object({ action: ActionItem, recorded: z.object({ name: z.string(), channel: z.string(), direction: z.string(), at: z.string() }).nullable() })
  .meta({ id: 'RelationshipActionClosed' });

/** Marks an open action done (recording the interaction it was, in one transaction) or dismissed. */
export async function closeAction(store: Store, writer: IngestWriter, id: number, how: 'done' | 'dismissed', body: z.infer<typeof CloseBody>, by: string | null, now = Date.now()): Promise<z.infer<typeof CloseReply>> {
  const a = await repo.actionById(store.db, id);
  if (!a) throw notFound(`action ${id}`);
  if (a.status !== 'open') throw new RapportError('conflict', `action ${id} is ${a.status} already`);
  const at = body.at === undefined ? now : Date.parse(body.at);
  if (!Number.isFinite(at) || at > now + 60_000 || at < now - 365 * 86_400_000) throw new RapportError('invalid_input', 'at: must be within the last year and not in the future', [{ field: 'at', message: 'out of range' }]);
  const set = { status: how, done_at: at, done_by: by, note: body.note ?? null };
  let recorded: z.infer<typeof CloseReply>['recorded'] = null;
  if (how === 'done' && a.user_id) {
    const e = DONE_EVENTS[a.kind as ActionKind] ?? DONE_EVENTS.work_toward_next_stage;
    await writer.writeAlongside(
      [{ kind: 'interaction', who: { userId: a.user_id }, type: 'track', name: e.name, channel: e.channel, direction: e.direction, at, properties: { action_id: id, action: a.kind, ...(body.note ? { note: body.note } : {}) }, source: 'actions', sourceId: `action-${id}` }],
      (trx) => repo.closeAction(trx, id, set),
    );
    recorded = { name: e.name, channel: e.channel, direction: e.direction, at: new Date(at).toISOString() };
  } else await repo.closeAction(store.db, id, set);
  return { action: item((await repo.actionById(store.db, id))!), recorded };
}
