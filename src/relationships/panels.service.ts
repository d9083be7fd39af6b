/**
 * Co-creation panels: reference customers who try new lines before they go wide.
 *
 * A panel is drawn from filters over what Rapport knows of each customer (LOVE stage and
 * momentum from the latest stages run, micro-segment and CLV from the latest customer-value run,
 * how recently they were seen, traits, account), balanced across micro-segments and repeatable
 * for its seed (models/panels/sampling.ts). Its members are invited, accept or decline and take
 * part; each step is recorded as an interaction through the ingestion writer, so that the LOVE
 * stages see it ("Panel Joined" and "Panel Session Attended" count as research: Co-creation).
 * What the members said since the panel started, and how they bought the product or category
 * under test after its launch against what the customer-value model expected, are read back.
 */
import { z } from 'zod';
import { invalid, notFound, RapportError } from '../core/errors.js';
import { DAY_MS, isoOfDay } from '../core/time.js';
import { EARLIEST_TIME_MS, timeProblem, timeWindow } from '../core/limits.js';
import { round, roundOrNull } from '../core/numbers.js';
import type { CsvCell } from '../core/csv.js';
import type { IngestRecord } from '../ingest/records.js';
import type { IngestWriter } from '../ingest/writer/writer.js';
import { balancedSample, allocateSeats } from '../models/panels/sampling.js';
import { expectedInWindow, groupFigures, shareOf, type GroupFigures, type LaunchHistory } from '../models/panels/launch.js';
import { MOMENTA, STAGE_KEYS } from '../models/stages/rules.js';
import { PURCHASE_MODEL_LABELS } from '../models/clv/purchase-model.js';
import type { Store } from '../store/db.js';
import type { PanelMemberStatus, PanelMembersTable, PanelStatus } from '../store/schema.js';
import { fittedModel } from '../value/fit.js';
import { summarizeOrders } from '../value/orders.repository.js';
import type { ClvRunReport } from '../value/run-report.js';
import { latestClvRun } from '../value/runs.js';
import { rulesInForce } from './rules.js';
import { stagesAsOf } from './stages.job.js';
import * as repo from './panels.repository.js';

export const PANEL_STATUSES = ['draft', 'active', 'closed'] as const satisfies readonly PanelStatus[];
export const MEMBER_STATUSES = ['selected', 'invited', 'accepted', 'declined', 'participated'] as const satisfies readonly PanelMemberStatus[];
/** Whom "the panel" means by default in its feedback and launch figures: everyone on it but those who declined. */
const DEFAULT_VOICES: readonly PanelMemberStatus[] = ['selected', 'invited', 'accepted', 'participated'];

/** The largest panel: a panel is a group of people the team talks to, not a campaign list. */
export const MAX_PANEL_SIZE = 10_000;

/** When something happened: a day (YYYY-MM-DD, midnight UTC) or an ISO 8601 time. */
const IsoTime = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(s) && Number.isFinite(Date.parse(s)), 'expected a day (YYYY-MM-DD) or an ISO 8601 time with its zone (2026-06-01T10:00:00Z)')
  .refine((s) => Date.parse(s) >= EARLIEST_TIME_MS && Date.parse(s) < Date.UTC(2200, 0, 1), 'expected a time between 1900 and 2200');

const TraitFilter = z.object({
  key: z.string().min(1).max(100).regex(/^[A-Za-z0-9_ -]+$/, 'a trait name of letters, digits, spaces, _ and - only'),
  value: z.string().max(200),
});

export const PanelFilters = z
  .object({
    stages: z.array(z.enum(STAGE_KEYS)).min(1).max(STAGE_KEYS.length).optional().describe('LOVE stages of the latest stages run (any of them)'),
    momentum: z.array(z.enum(MOMENTA)).min(1).max(MOMENTA.length).optional().describe('momentum of the latest stages run (any of them)'),
    segments: z.array(z.number().int().min(0).max(1000)).min(1).max(100).optional().describe('micro-segment ids of the latest customer-value run (any of them)'),
    clvMin: z.number().min(-1e12).max(1e12).optional().describe('CLV of the latest customer-value run at least this'),
    clvMax: z.number().min(-1e12).max(1e12).optional().describe('CLV at most this'),
    seenWithinDays: z.number().int().min(1).max(36_500).optional().describe('last seen within this many days of now (or of the latest activity, when the data end earlier)'),
    traits: z.array(TraitFilter).max(10).optional().describe('customer traits, each key = value (case-insensitive; true/false for booleans)'),
    account: z.string().min(1).max(512).optional().describe('the Segment group id of an account its members belong to'),
  })
  .strict()
  .meta({ id: 'PanelFilters' });
export type PanelFilters = z.infer<typeof PanelFilters>;

export const UnderTest = z
  .object({ kind: z.enum(['product', 'category']), value: z.string().trim().min(1).max(200).describe('a product id, or a category name (case-insensitive)') })
  .meta({ id: 'PanelUnderTest' });

const SegmentRow = z.object({
  segment: z.number().nullable().describe('micro-segment id; null: customers not segmented'),
  label: z.string(),
  eligible: z.number(),
  asked: z.number().describe('its equal share of the seats'),
  selected: z.number().describe('the seats it fills (fewer when it has fewer eligible; more when others fell short)'),
});

export const PanelSelection = z
  .object({
    asOf: z.string().describe('the time "seen within" counts back from'),
    eligible: z.number(),
    size: z.number(),
    selected: z.number(),
    seed: z.number(),
    rule: z.string(),
    segments: z.array(SegmentRow),
    notes: z.array(z.string()),
  })
  .meta({ id: 'PanelSelection' });
type Selection = z.infer<typeof PanelSelection>;

export const Panel = z
  .object({
    id: z.number(),
    name: z.string(),
    purpose: z.string(),
    status: z.enum(PANEL_STATUSES),
    filters: PanelFilters,
    size: z.number(),
    seed: z.number(),
    underTest: UnderTest.nullable(),
    launchedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    members: z.object({ total: z.number(), byStatus: z.record(z.string(), z.number()) }),
    selection: PanelSelection,
  })
  .meta({ id: 'Panel' });
export type PanelReply = z.infer<typeof Panel>;

export const PanelList = z.object({ items: z.array(Panel) }).meta({ id: 'PanelList' });

export const PanelCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    purpose: z.string().max(2000).default(''),
    filters: PanelFilters.default({}),
    size: z.number().int().min(1).max(MAX_PANEL_SIZE),
    seed: z.number().int().min(0).max(2_147_483_647).optional().describe('the draw is repeatable for a seed; default: one from the clock, kept with the panel'),
    underTest: UnderTest.nullable().default(null),
    launchedAt: IsoTime.nullable().default(null).describe('when the product or category under test went wide'),
    startedAt: IsoTime.nullable().default(null).describe('when the panel started (default: when it becomes active)'),
  })
  .strict();
export type PanelCreate = z.infer<typeof PanelCreate>;

export const PanelPatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    purpose: z.string().max(2000).optional(),
    status: z.enum(PANEL_STATUSES).optional().describe('draft → active → closed (a closed panel may be reopened; none goes back to draft)'),
    underTest: UnderTest.nullable().optional(),
    launchedAt: IsoTime.nullable().optional(),
    startedAt: IsoTime.nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change: give name, purpose, status, underTest, launchedAt or startedAt');

export const PreviewBody = z
  .object({
    filters: PanelFilters.default({}),
    size: z.number().int().min(0).max(MAX_PANEL_SIZE).default(0).describe('seats: with it, what each segment would be asked for and give'),
    seed: z.number().int().min(0).max(2_147_483_647).default(1),
  })
  .strict();

export const PanelPreview = PanelSelection.extend({ filters: PanelFilters }).meta({ id: 'PanelPreview' });

/** Comma-separated member statuses (`invited,accepted`). */
const StatusList = z
  .string()
  .max(100)
  .refine((s) => s.split(',').every((x) => (MEMBER_STATUSES as readonly string[]).includes(x.trim())), `a comma-separated list of ${MEMBER_STATUSES.join(', ')}`)
  .transform((s) => [...new Set(s.split(',').map((x) => x.trim() as PanelMemberStatus))]);

export const MembersQuery = z.object({
  status: StatusList.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).max(MAX_PANEL_SIZE).default(0),
});

export const VoicesQuery = z.object({ status: StatusList.optional().describe('members of these statuses (default: all but those who declined)') });

const StageRef = z.object({ key: z.enum(STAGE_KEYS), name: z.string() });

export const PanelMember = z
  .object({
    userId: z.string(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    segment: z.object({ id: z.number(), label: z.string() }).nullable().describe('micro-segment when selected'),
    stage: StageRef.nullable().describe('LOVE stage when selected'),
    stageNow: StageRef.nullable().describe('LOVE stage of the latest stages run'),
    clv: z.number().nullable(),
    pAlive: z.number().nullable(),
    status: z.enum(MEMBER_STATUSES),
    next: z.array(z.enum(MEMBER_STATUSES)).describe('the statuses it may move to'),
    addedAt: z.string(),
    invitedAt: z.string().nullable(),
    respondedAt: z.string().nullable(),
    participatedAt: z.string().nullable(),
  })
  .meta({ id: 'PanelMember' });
type Member = z.infer<typeof PanelMember>;

export const PanelMembers = z.object({ total: z.number(), items: z.array(PanelMember) }).meta({ id: 'PanelMembers' });

export const AddMemberBody = z.object({ userId: z.string().min(1).max(512) }).strict();

export const MemberStatusBody = z
  .object({
    status: z.enum(MEMBER_STATUSES),
    at: IsoTime.optional().describe('when it happened (default: now)'),
    channel: z.string().trim().min(1).max(40).regex(/^[a-z_]+$/, 'a channel name in lower case (email, phone, video, in_person…)').optional().describe('the channel of the interaction recorded (default: email for invitations and answers, video for sessions)'),
  })
  .strict();

export const MemberStatusReply = z
  .object({ member: PanelMember, recorded: z.object({ name: z.string(), channel: z.string(), direction: z.string(), at: z.string() }).nullable().describe('the interaction recorded, if any') })
  .meta({ id: 'PanelMemberStatus' });

export const Removed = z.object({ removed: z.string() }).meta({ id: 'PanelMemberRemoved' });
export const DeletedPanel = z.object({ deleted: z.number(), members: z.number() }).meta({ id: 'PanelDeleted' });

/** Which statuses a member may move to from each (invitations, answers, sessions: one way, with second thoughts allowed). */
export const NEXT_STATUS: Record<PanelMemberStatus, readonly PanelMemberStatus[]> = {
  selected: ['invited'],
  invited: ['accepted', 'declined'],
  declined: ['accepted'],
  accepted: ['participated', 'declined'],
  participated: ['participated'],
};

/** The interaction each step records (the default LOVE rules count Panel Joined and Panel Session Attended as research). */
const STEP_EVENTS: Partial<Record<PanelMemberStatus, { name: string; direction: 'inbound' | 'outbound' | 'mutual'; channel: string }>> = {
  invited: { name: 'Panel Invited', direction: 'outbound', channel: 'email' },
  accepted: { name: 'Panel Joined', direction: 'inbound', channel: 'email' },
  participated: { name: 'Panel Session Attended', direction: 'mutual', channel: 'video' },
};

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function panelNotFound(id: number): RapportError {
  return notFound(`panel ${id}`);
}

/** Segment labels of the latest customer-value run, by id. */
function segmentLabels(report: ClvRunReport | undefined): Map<number, string> {
  const out = new Map<number, string>();
  const seg = report?.segments;
  if (seg && !('skipped' in seg)) for (const c of seg.cards) out.set(c.id, c.label);
  return out;
}

const labelOf = (labels: Map<number, string>, segment: number | null): string => (segment === null ? 'Not segmented' : (labels.get(segment) ?? `Segment ${segment}`));

interface Resolved {
  query: repo.EligibleQuery;
  asOf: number;
  labels: Map<number, string>;
}

/** Checks the filters against what is stored (each error names its field) and turns them into a query. */
async function resolveFilters(store: Store, f: PanelFilters, now: number, field = 'filters'): Promise<Resolved> {
  const [run, staged, { asOf }] = await Promise.all([latestClvRun(store), repo.hasStages(store.db), stagesAsOf(store, now)]);
  const labels = segmentLabels(run?.report);
  if ((f.stages || f.momentum) && !staged) throw invalid(`${field}.${f.stages ? 'stages' : 'momentum'}`, 'no stages run yet: run `rapport stages run` (or POST /api/stages/run) first');
  if ((f.segments || f.clvMin !== undefined || f.clvMax !== undefined) && !run) {
    throw invalid(`${field}.${f.segments ? 'segments' : f.clvMin !== undefined ? 'clvMin' : 'clvMax'}`, 'no customer-value run yet: run `rapport clv run` first');
  }
  if (f.clvMin !== undefined && f.clvMax !== undefined && f.clvMin > f.clvMax) throw invalid(`${field}.clvMax`, `must be at least clvMin (${f.clvMin}), got ${f.clvMax}`);
  if (f.segments) {
    const known = [...labels.keys()].sort((a, b) => a - b);
    f.segments.forEach((s, i) => {
      if (!labels.has(s)) throw invalid(`${field}.segments.${i}`, known.length === 0 ? 'the latest customer-value run made no micro-segments' : `no micro-segment ${s} in the latest customer-value run (its segments: ${known.join(', ')})`);
    });
  }
  const seen = new Set<string>();
  (f.traits ?? []).forEach((t, i) => {
    if (seen.has(t.key.toLowerCase())) throw invalid(`${field}.traits.${i}.key`, `trait ${t.key} is filtered twice`);
    seen.add(t.key.toLowerCase());
  });
  let accountId: number | undefined;
  if (f.account !== undefined) {
    accountId = await repo.accountIdOf(store.db, f.account);
    if (accountId === undefined) throw invalid(`${field}.account`, `no account with group id "${f.account}"`);
  }
  return {
    asOf,
    labels,
    query: {
      stages: f.stages?.map((k) => STAGE_KEYS.indexOf(k)),
      momentum: f.momentum,
      segments: f.segments,
      clvMin: f.clvMin,
      clvMax: f.clvMax,
      seenSince: f.seenWithinDays === undefined ? undefined : asOf - f.seenWithinDays * DAY_MS,
      traits: f.traits,
      accountId,
    },
  };
}

const keyOf = (segment: number | null): string => (segment === null ? 'none' : String(segment));
const SAMPLING_RULE =
  'balanced: the seats are shared equally among the segments present; leftover seats go to the largest segments; a segment with fewer eligible customers than its share gives all of them and its missing seats are shared among the others; members drawn at random within each segment, repeatably for the seed';

/** The selection report: per segment eligible, asked and selected, and what was done where one fell short. */
function selectionOf(counts: { segment: number | null; customers: number }[], size: number, seed: number, labels: Map<number, string>, asOf: number): Selection {
  const sorted = [...counts].sort((a, b) => (a.segment === null ? 1 : b.segment === null ? -1 : a.segment - b.segment));
  const a = allocateSeats(sorted.map((c) => ({ key: keyOf(c.segment), eligible: c.customers })), size);
  const eligible = sorted.reduce((s, c) => s + c.customers, 0);
  const segments = sorted.map((c, i) => ({ segment: c.segment, label: labelOf(labels, c.segment), eligible: c.customers, asked: a.segments[i]!.asked, selected: a.segments[i]!.selected }));
  const notes: string[] = [];
  const seats = (n: number): string => `${n.toLocaleString('en-US')} seat${n === 1 ? '' : 's'}`;
  if (eligible === 0) notes.push('No customer matches these filters.');
  else if (size > 0) {
    for (const s of segments.filter((x) => x.eligible < x.asked)) {
      notes.push(`${s.label}: ${s.eligible} eligible for a share of ${s.asked}, so all ${s.eligible} are taken; its other ${seats(s.asked - s.eligible)} went to the segments with customers to spare.`);
    }
    if (eligible < size) notes.push(`Only ${eligible.toLocaleString('en-US')} customers are eligible for ${seats(size)}: all of them are on the panel.`);
  }
  if (counts.some((c) => c.segment === null)) notes.push('Customers without a micro-segment (not valued by the latest customer-value run, or no segments made) form one group of their own.');
  return { asOf: new Date(asOf).toISOString(), eligible, size, selected: a.selected, seed, rule: SAMPLING_RULE, segments, notes };
}

/** Eligible customers per segment for some filters, and (with a size) what each segment would be asked for and give; nothing is saved. */
export async function previewPanel(store: Store, body: z.infer<typeof PreviewBody>, now = Date.now()): Promise<z.infer<typeof PanelPreview>> {
  const r = await resolveFilters(store, body.filters, now);
  const counts = await repo.eligibleCounts(store, r.query);
  return { ...selectionOf(counts, body.size, body.seed, r.labels, r.asOf), filters: body.filters };
}

function parseTime(v: string | null | undefined): number | null {
  return v === null || v === undefined ? null : Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
}

/** Builds a panel: the filters checked, the eligible customers drawn (balanced, repeatable), the panel and its members stored as a draft. */
export async function createPanel(store: Store, body: PanelCreate, by: string | null, now = Date.now()): Promise<PanelReply> {
  const seed = body.seed ?? now % 2_147_483_647;
  const r = await resolveFilters(store, body.filters, now);
  const customers = await repo.eligibleCustomers(store, r.query);
  const pools = new Map<string, { segment: number | null; ids: number[] }>();
  const stageOf = new Map<number, number | null>();
  for (const c of customers) {
    const k = keyOf(c.segment);
    let p = pools.get(k);
    if (!p) pools.set(k, (p = { segment: c.segment, ids: [] }));
    p.ids.push(c.id);
    stageOf.set(c.id, c.stage);
  }
  const ordered = [...pools.values()].sort((a, b) => (a.segment === null ? 1 : b.segment === null ? -1 : a.segment - b.segment));
  const sample = balancedSample(ordered.map((p) => ({ key: keyOf(p.segment), ids: p.ids })), body.size, seed);
  const selection = selectionOf(ordered.map((p) => ({ segment: p.segment, customers: p.ids.length })), body.size, seed, r.labels, r.asOf);
  const members: PanelMembersTable[] = [];
  for (const p of ordered) {
    for (const id of sample.chosen.get(keyOf(p.segment)) ?? []) {
      members.push({ panel_id: 0, customer_id: id, segment: p.segment, segment_label: p.segment === null ? null : labelOf(r.labels, p.segment), stage: stageOf.get(id) ?? null, status: 'selected', added_at: now, invited_at: null, responded_at: null, participated_at: null });
    }
  }
  const id = await store.db.transaction().execute(async (trx) => {
    const panelId = await repo.insertPanel(trx, {
      name: body.name,
      purpose: body.purpose,
      filters: JSON.stringify(body.filters),
      size: body.size,
      seed,
      selection: JSON.stringify(selection),
      status: 'draft',
      test_kind: body.underTest?.kind ?? null,
      test_subject: body.underTest?.value ?? null,
      launched_at: parseTime(body.launchedAt),
      started_at: parseTime(body.startedAt),
      created_by: by,
      created_at: now,
      updated_at: now,
    });
    await repo.insertMembers(trx, members.map((m) => ({ ...m, panel_id: panelId })));
    return panelId;
  });
  return getPanel(store, id);
}

function toPanel(p: repo.PanelRow, counts: { status: PanelMemberStatus; n: number }[]): PanelReply {
  const byStatus: Record<string, number> = Object.fromEntries(MEMBER_STATUSES.map((s) => [s, 0]));
  for (const c of counts) byStatus[c.status] = c.n;
  return {
    id: p.id,
    name: p.name,
    purpose: p.purpose,
    status: p.status,
    filters: JSON.parse(p.filters) as PanelFilters,
    size: p.size,
    seed: p.seed,
    underTest: p.test_kind && p.test_subject !== null ? { kind: p.test_kind, value: p.test_subject } : null,
    launchedAt: iso(p.launched_at),
    startedAt: iso(p.started_at),
    createdBy: p.created_by,
    createdAt: new Date(p.created_at).toISOString(),
    updatedAt: new Date(p.updated_at).toISOString(),
    members: { total: counts.reduce((a, c) => a + c.n, 0), byStatus },
    selection: JSON.parse(p.selection) as Selection,
  };
}

async function panelRow(store: Store, id: number): Promise<repo.PanelRow> {
  const p = await repo.panelById(store.db, id);
  if (!p) throw panelNotFound(id);
  return p;
}

export async function getPanel(store: Store, id: number): Promise<PanelReply> {
  const p = await panelRow(store, id);
  return toPanel(p, await repo.memberCounts(store.db, [id]));
}

/** The newest panels first (at most 500). */
export async function listPanels(store: Store): Promise<z.infer<typeof PanelList>> {
  const rows = await repo.listPanels(store.db, 500);
  const counts = await repo.memberCounts(store.db, rows.map((r) => r.id));
  return { items: rows.map((r) => toPanel(r, counts.filter((c) => c.panel_id === r.id))) };
}

/** Which panel statuses may follow which. */
const PANEL_NEXT: Record<PanelStatus, readonly PanelStatus[]> = { draft: ['draft', 'active', 'closed'], active: ['active', 'closed'], closed: ['closed', 'active'] };

/** Renames, describes, moves the panel along (draft → active → closed), or sets what is under test and when it launched. */
export async function updatePanel(store: Store, id: number, patch: z.infer<typeof PanelPatch>, now = Date.now()): Promise<PanelReply> {
  const p = await panelRow(store, id);
  const set: Parameters<typeof repo.updatePanel>[2] = { updated_at: now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.purpose !== undefined) set.purpose = patch.purpose;
  if (patch.status !== undefined) {
    if (!PANEL_NEXT[p.status].includes(patch.status)) throw new RapportError('conflict', `panel ${id} is ${p.status}: it can become ${PANEL_NEXT[p.status].filter((s) => s !== p.status).join(' or ')}, not ${patch.status}`);
    set.status = patch.status;
    if (patch.status === 'active' && p.started_at === null && patch.startedAt === undefined) set.started_at = now;
  }
  if (patch.underTest !== undefined) {
    set.test_kind = patch.underTest?.kind ?? null;
    set.test_subject = patch.underTest?.value ?? null;
  }
  if (patch.launchedAt !== undefined) set.launched_at = parseTime(patch.launchedAt);
  if (patch.startedAt !== undefined) set.started_at = parseTime(patch.startedAt);
  await repo.updatePanel(store.db, id, set);
  return getPanel(store, id);
}

/** Deletes a panel and its memberships; the interactions recorded for its members stay in their history. */
export async function deletePanel(store: Store, id: number): Promise<z.infer<typeof DeletedPanel>> {
  const before = await getPanel(store, id);
  await repo.deletePanel(store.db, id);
  return { deleted: id, members: before.members.total };
}

type StageNames = { key: (typeof STAGE_KEYS)[number]; name: string }[];

async function stageNames(store: Store): Promise<StageNames> {
  return (await rulesInForce(store.db)).rules.stages.map((s) => ({ key: s.key, name: s.name }));
}

function toMember(r: repo.MemberListRow, stages: StageNames): Member {
  return {
    userId: r.user_id ?? '',
    name: r.name,
    email: r.email,
    segment: r.segment === null ? null : { id: r.segment, label: r.segment_label ?? `Segment ${r.segment}` },
    stage: r.stage === null ? null : (stages[r.stage] ?? null),
    stageNow: r.stage_now === null ? null : (stages[r.stage_now] ?? null),
    clv: roundOrNull(r.clv),
    pAlive: roundOrNull(r.p_alive, 4),
    status: r.status,
    next: [...NEXT_STATUS[r.status]],
    addedAt: new Date(r.added_at).toISOString(),
    invitedAt: iso(r.invited_at),
    respondedAt: iso(r.responded_at),
    participatedAt: iso(r.participated_at),
  };
}

/** A panel's members with their segment and stage when selected, stage and value now, and status. */
export async function panelMembers(store: Store, id: number, q: z.infer<typeof MembersQuery>): Promise<z.infer<typeof PanelMembers>> {
  const p = await getPanel(store, id);
  const [rows, stages] = await Promise.all([repo.panelMembers(store.db, id, { statuses: q.status, limit: q.limit, offset: q.offset }), stageNames(store)]);
  const total = q.status ? q.status.reduce((a, s) => a + (p.members.byStatus[s] ?? 0), 0) : p.members.total;
  return { total, items: rows.map((r) => toMember(r, stages)) };
}

async function memberOf(store: Store, panelId: number, customerId: number): Promise<Member> {
  const [rows, stages] = await Promise.all([repo.panelMembers(store.db, panelId, { limit: 1, offset: 0, customerId }), stageNames(store)]);
  return toMember(rows[0]!, stages);
}

function refuseClosed(p: repo.PanelRow): void {
  if (p.status === 'closed') throw new RapportError('conflict', `panel ${p.id} is closed: reopen it (status active) to change its members`);
}

/** Adds a customer by user id (status selected), with their segment and stage as they are now. */
export async function addMember(store: Store, panelId: number, userId: string, now = Date.now()): Promise<Member> {
  const p = await panelRow(store, panelId);
  refuseClosed(p);
  const c = await repo.customerForPanel(store.db, userId);
  if (!c) throw notFound(`customer "${userId}"`);
  if (await repo.memberRow(store.db, panelId, c.id)) throw new RapportError('conflict', `"${userId}" is already on panel ${panelId}`);
  const labels = segmentLabels((await latestClvRun(store))?.report);
  await repo.insertMembers(store.db, [{ panel_id: panelId, customer_id: c.id, segment: c.segment, segment_label: c.segment === null ? null : labelOf(labels, c.segment), stage: c.stage, status: 'selected', added_at: now, invited_at: null, responded_at: null, participated_at: null }]);
  return memberOf(store, panelId, c.id);
}

async function memberCustomer(store: Store, panelId: number, userId: string): Promise<{ id: number; row: PanelMembersTable }> {
  const c = await repo.customerForPanel(store.db, userId);
  const row = c ? await repo.memberRow(store.db, panelId, c.id) : undefined;
  if (!c || !row) throw notFound(`"${userId}" on panel ${panelId}`);
  return { id: c.id, row };
}

/** Takes a customer off a panel (what was recorded of their invitation and answers stays in their history). */
export async function removeMember(store: Store, panelId: number, userId: string): Promise<z.infer<typeof Removed>> {
  refuseClosed(await panelRow(store, panelId));
  const { id } = await memberCustomer(store, panelId, userId);
  await repo.deleteMember(store.db, panelId, id);
  return { removed: userId };
}

/**
 * Moves a member along (selected → invited → accepted or declined → participated): the new status
 * and the interaction that records the step ("Panel Invited", outbound; "Panel Joined", inbound;
 * "Panel Session Attended", mutual) are written in one transaction through the ingestion writer.
 */
export async function setMemberStatus(store: Store, writer: IngestWriter, panelId: number, userId: string, body: z.infer<typeof MemberStatusBody>, now = Date.now()): Promise<z.infer<typeof MemberStatusReply>> {
  const p = await panelRow(store, panelId);
  refuseClosed(p);
  const { id, row } = await memberCustomer(store, panelId, userId);
  const at = body.at === undefined ? now : parseTime(body.at)!;
  const late = timeProblem(at, timeWindow(now));
  if (late) throw invalid('at', late);
  if (!NEXT_STATUS[row.status].includes(body.status)) {
    const can = NEXT_STATUS[row.status];
    throw new RapportError('conflict', `"${userId}" is ${row.status} on panel ${panelId}: they can become ${can.join(' or ')}, not ${body.status} (selected → invited → accepted or declined → participated)`);
  }
  const set: Parameters<typeof repo.updateMember>[3] = { status: body.status };
  if (body.status === 'invited') set.invited_at = at;
  if (body.status === 'accepted' || body.status === 'declined') set.responded_at = at;
  if (body.status === 'participated') set.participated_at = at;
  const step = STEP_EVENTS[body.status];
  const channel = body.channel ?? step?.channel ?? 'email';
  const records: IngestRecord[] = step
    ? [
        {
          kind: 'interaction',
          who: { userId },
          type: 'track',
          name: step.name,
          channel,
          direction: step.direction,
          at,
          properties: { panel_id: panelId, panel: p.name },
          source: 'panels',
          sourceId: `panel-${panelId}-${id}-${body.status}-${at}`,
        },
      ]
    : [];
  await writer.writeAlongside(records, (trx) => repo.updateMember(trx, panelId, id, set));
  return { member: await memberOf(store, panelId, id), recorded: step ? { name: step.name, channel, direction: step.direction, at: new Date(at).toISOString() } : null };
}

export const MEMBERS_CSV_HEADER = ['userId', 'email', 'name', 'segment', 'stage', 'stageNow', 'clv', 'status', 'invitedAt', 'respondedAt', 'participatedAt'] as const;

/** Every member as a CSV row (the CSV helpers quote and neutralise formulas), a page at a time. */
export async function membersCsv(store: Store, panelId: number): Promise<{ name: string; total: number; rows: AsyncIterable<CsvCell[][]> }> {
  const p = await getPanel(store, panelId);
  const stages = await stageNames(store);
  async function* rows(): AsyncGenerator<CsvCell[][]> {
    for (let offset = 0; ; offset += 1000) {
      const page = await repo.panelMembers(store.db, panelId, { limit: 1000, offset });
      yield page.map((r) => {
        const m = toMember(r, stages);
        return [m.userId, m.email, m.name, m.segment?.label ?? null, m.stage?.name ?? null, m.stageNow?.name ?? null, m.clv, m.status, m.invitedAt, m.respondedAt, m.participatedAt];
      });
      if (page.length < 1000) return;
    }
  }
  return { name: p.name, total: p.members.total, rows: rows() };
}

export const PanelFeedback = z
  .object({
    since: z.string().describe('when the panel started (else when it was made): feedback from then on counts'),
    statuses: z.array(z.enum(MEMBER_STATUSES)),
    members: z.number().describe('members of those statuses'),
    items: z.number(),
    customers: z.number().describe('members who said something'),
    analysed: z.number().describe('items the listening run has read (sentiment, theme)'),
    sentiment: z.object({ mean: z.number().nullable(), positive: z.number(), neutral: z.number(), negative: z.number() }),
    kinds: z.array(z.object({ kind: z.string(), items: z.number() })),
    themes: z.array(z.object({ id: z.number(), name: z.string(), general: z.boolean(), items: z.number(), customers: z.number(), share: z.number(), sentiment: z.number().nullable() })),
    quotes: z.array(z.object({ id: z.number(), kind: z.string(), userId: z.string().nullable(), at: z.string(), text: z.string(), sentiment: z.string().nullable(), theme: z.string().nullable() })),
    notes: z.array(z.string()),
  })
  .meta({ id: 'PanelFeedback' });

/** What the panel said since it started: how much, how it read (sentiment), the top themes and the newest quotes. */
export async function panelFeedback(store: Store, panelId: number, q: z.infer<typeof VoicesQuery>): Promise<z.infer<typeof PanelFeedback>> {
  const p = await panelRow(store, panelId);
  const statuses = q.status ?? DEFAULT_VOICES;
  const since = p.started_at ?? p.created_at;
  const [members, totals, themes, quotes] = await Promise.all([
    repo.memberIds(store.db, panelId, statuses),
    repo.feedbackTotals(store.db, panelId, since, statuses),
    repo.feedbackThemes(store.db, panelId, since, statuses, 10),
    repo.feedbackQuotes(store.db, panelId, since, statuses, 8),
  ]);
  const label = (l: string) => totals.labels.find((x) => x.label === l)?.items ?? 0;
  const notes: string[] = [];
  if (p.started_at === null) notes.push('The panel has not started (it is a draft): feedback counts from when it was made.');
  if (totals.items > totals.analysed) notes.push(`${totals.items - totals.analysed} of the items are not analysed yet: the next listening run reads them.`);
  if (totals.items === 0) notes.push('The members have said nothing since the panel started.');
  return {
    since: new Date(since).toISOString(),
    statuses: [...statuses],
    members: members.length,
    items: totals.items,
    customers: totals.customers,
    analysed: totals.analysed,
    sentiment: { mean: roundOrNull(totals.meanSentiment, 3), positive: label('positive'), neutral: label('neutral'), negative: label('negative') },
    kinds: totals.kinds.sort((a, b) => b.items - a.items || a.kind.localeCompare(b.kind)),
    themes: themes.map((t) => ({ id: t.theme_id, name: t.name ?? t.label, general: t.kind === 'general', items: t.items, customers: t.customers, share: totals.items > 0 ? round(t.items / totals.items, 4) : 0, sentiment: roundOrNull(t.sentiment, 3) })),
    quotes: quotes.map((x) => ({ id: x.id, kind: x.kind, userId: x.user_id, at: new Date(x.created_at).toISOString(), text: x.text.length > 400 ? `${x.text.slice(0, 399)}…` : x.text, sentiment: x.sentiment_label, theme: x.theme })),
    notes,
  };
}

const Figures = z.object({
  customers: z.number(),
  modelled: z.number().describe('customers with a purchase before the launch: the model has a history to expect from'),
  share: z.number().describe('the subject’s share of their purchase days before the launch (the group’s own, else the base share)'),
  shareFrom: z.enum(['group', 'base']),
  expectedPurchases: z.number().describe('purchases of anything the model expects of the modelled customers in the window'),
  expected: z.number().describe('expected purchases of the subject: expectedPurchases × share'),
  actual: z.number().describe('purchase days in the window with an order holding the subject (modelled customers)'),
  ratio: z.number().nullable().describe('actual / expected'),
  buyers: z.number().describe('customers who bought the subject in the window'),
  withoutHistory: z.object({ customers: z.number(), purchases: z.number() }).describe('customers with no purchase before the launch, and their purchases of the subject (not in actual)'),
});

export const PanelLaunch = z
  .object({
    available: z.boolean(),
    reason: z.string().nullable(),
    underTest: UnderTest.nullable(),
    launchedAt: z.string().nullable(),
    window: z.object({ from: z.string(), to: z.string(), weeks: z.number() }).nullable(),
    model: z.object({ name: z.string(), runAsOf: z.string() }).nullable(),
    baseShare: z.object({ share: z.number(), from: z.string() }).nullable(),
    statuses: z.array(z.enum(MEMBER_STATUSES)),
    members: Figures.nullable(),
    nonMembers: Figures.nullable(),
    segments: z.array(z.object({ segment: z.number().nullable(), label: z.string(), members: Figures, nonMembers: Figures, suggests: z.string() })),
    formula: z.string(),
    caveat: z.string(),
    summary: z.string().nullable(),
  })
  .meta({ id: 'PanelLaunch' });
type Launch = z.infer<typeof PanelLaunch>;

const LAUNCH_FORMULA =
  'expected = Σ over customers with a purchase before the launch of P(alive | x, t_x, T) × E[X(T, T+t] | x, T, alive] (the latest customer-value run’s purchase model, with each history cut at the day before the launch; t = the window in weeks), times the share of their purchase days before the launch that held the subject (the group’s own share, or the base share of all customers when the group never bought it; for a product nobody bought before, its category’s base share); actual = their purchase days in the window with an order holding the subject; ratio = actual / expected.';
const LAUNCH_CAVEAT =
  'An observational comparison, not an experiment: panel members were chosen by filters and took part by choice, so a higher ratio among them is not an effect of the panel. The model’s parameters are those of the latest run, fitted on a history that includes the window.';

const figures = (g: GroupFigures): z.infer<typeof Figures> => ({
  customers: g.customers,
  modelled: g.modelled,
  share: round(g.share, 4),
  shareFrom: g.shareFrom,
  expectedPurchases: round(g.expectedAll, 2),
  expected: round(g.expected, 2),
  actual: g.actual,
  ratio: roundOrNull(g.ratio, 3),
  buyers: g.buyers,
  withoutHistory: g.withoutHistory,
});

const times = (r: number | null): string => (r === null ? 'an unknown multiple of' : `${r.toFixed(2)}×`);

/**
 * How the members bought the product or category under test after its launch, against what the
 * customer-value model expected of them, and per segment the same for customers not on the
 * panel (what the launch looks like in the wider base). See LAUNCH_FORMULA.
 */
export async function launchComparison(store: Store, panelId: number, q: z.infer<typeof VoicesQuery>): Promise<Launch> {
  const p = await panelRow(store, panelId);
  const statuses = q.status ?? DEFAULT_VOICES;
  const underTest = p.test_kind && p.test_subject !== null ? { kind: p.test_kind, value: p.test_subject } : null;
  const empty = (reason: string): Launch => ({
    available: false,
    reason,
    underTest,
    launchedAt: iso(p.launched_at),
    window: null,
    model: null,
    baseShare: null,
    statuses: [...statuses],
    members: null,
    nonMembers: null,
    segments: [],
    formula: LAUNCH_FORMULA,
    caveat: LAUNCH_CAVEAT,
    summary: null,
  });
  if (!underTest) return empty('Nothing is under test: set the product or category the panel tries (underTest).');
  if (p.launched_at === null) return empty('No launch date: set launchedAt, the day the product or category went wide.');
  const run = await latestClvRun(store);
  if (!run) return empty('No customer-value run yet: run `rapport clv run` once orders are stored.');
  const report = run.report;
  const modelName = report.scoring?.model ?? 'bgnbd';
  if (!report.fit[modelName]) return empty('The latest customer-value run fitted no purchase model.');
  const model = fittedModel(report.fit, modelName);
  const launchDay = Math.floor(p.launched_at / DAY_MS);
  const endDay = Math.floor(Date.parse(report.asOf) / DAY_MS);
  if (endDay < launchDay) return empty(`The latest customer-value run is as of ${report.asOf}, before the launch (${isoOfDay(launchDay)}): run it again once orders after the launch are in.`);

  const [before, subject, segments, members, onPanel] = await Promise.all([
    summarizeOrders(store, launchDay - 1),
    repo.subjectPurchaseDays(store, underTest, launchDay * DAY_MS, (endDay + 1) * DAY_MS),
    repo.customerSegments(store.db),
    repo.memberIds(store.db, panelId, statuses),
    repo.memberIds(store.db, panelId, MEMBER_STATUSES),
  ]);
  // Members of other statuses (those who declined, by default) are in neither group.
  const elsewhere = new Set(onPanel);
  // Everyone who bought before the launch or bought the subject after it, plus the members.
  const index = new Map<number, number>();
  const ids: number[] = [];
  const add = (id: number): number => {
    let i = index.get(id);
    if (i === undefined) {
      i = ids.length;
      index.set(id, i);
      ids.push(id);
    }
    return i;
  };
  for (let i = 0; i < before.customerId.length; i++) add(before.customerId[i]!);
  for (const s of subject) add(s.customer_id);
  for (const m of members) add(m);
  const n = ids.length;
  const h: LaunchHistory = { purchaseDays: new Int32Array(n), firstDay: new Int32Array(n), lastDay: new Int32Array(n), subjectBefore: new Int32Array(n), subjectAfter: new Int32Array(n) };
  for (let k = 0; k < before.customerId.length; k++) {
    const i = index.get(before.customerId[k]!)!;
    h.purchaseDays[i] = before.purchaseDays[k]!;
    h.firstDay[i] = before.firstDay[k]!;
    h.lastDay[i] = before.lastDay[k]!;
  }
  for (const s of subject) {
    const i = index.get(s.customer_id)!;
    h.subjectBefore[i] = s.before;
    h.subjectAfter[i] = s.after;
  }
  const expected = expectedInWindow(model, h, { launchDay, endDay, periodDays: 7 });
  const all = Array.from({ length: n }, (_, i) => i);
  const base = shareOf(h, all);
  let baseShare = { share: base.days > 0 ? base.subject / base.days : 0, from: `all customers' purchase days before the launch (${base.subject} of ${base.days})` };
  if (base.subject === 0 && underTest.kind === 'product') {
    const category = await repo.productCategory(store.db, underTest.value);
    if (category !== null) {
      const rows = await repo.subjectPurchaseDays(store, { kind: 'category', value: category }, launchDay * DAY_MS, (endDay + 1) * DAY_MS);
      const inCategory = rows.reduce((a, r) => a + r.before, 0);
      baseShare = { share: base.days > 0 ? inCategory / base.days : 0, from: `nobody bought ${underTest.value} before the launch: the share of its category ${category} (${inCategory} of ${base.days} purchase days)` };
    }
  }
  const memberSet = new Set(members.map((m) => index.get(m)!));
  const isOther = (i: number): boolean => !memberSet.has(i) && !elsewhere.has(ids[i]!);
  const bySegment = new Map<string, { segment: number | null; members: number[]; others: number[] }>();
  for (let i = 0; i < n; i++) {
    const seg = segments.get(ids[i]!) ?? null;
    const k = keyOf(seg);
    let g = bySegment.get(k);
    if (!g) bySegment.set(k, (g = { segment: seg, members: [], others: [] }));
    if (memberSet.has(i)) g.members.push(i);
    else if (isOther(i)) g.others.push(i);
  }
  const labels = segmentLabels(report);
  const groups = [...bySegment.values()].filter((g) => g.members.length > 0).sort((a, b) => (a.segment === null ? 1 : b.segment === null ? -1 : a.segment - b.segment));
  const memberFigures = groupFigures(h, expected, [...memberSet], baseShare.share);
  const otherFigures = groupFigures(h, expected, all.filter(isOther), baseShare.share);
  const subjectName = underTest.kind === 'product' ? `product ${underTest.value}` : `${underTest.value}`;
  const segmentRows = groups.map((g) => {
    const m = groupFigures(h, expected, g.members, baseShare.share);
    const o = groupFigures(h, expected, g.others, baseShare.share);
    const suggests =
      o.ratio === null
        ? `The model expects no purchases of ${subjectName} from the ${o.customers} other customers of this segment, so it says nothing about them.`
        : `The ${o.customers.toLocaleString('en-US')} other customers of this segment bought ${subjectName} at ${times(o.ratio)} what the model expects of them (${o.actual} against ${o.expected.toFixed(1)})` +
          (m.ratio === null ? '.' : `; the members at ${times(m.ratio)} (${m.actual} against ${m.expected.toFixed(1)}).`) +
          (o.ratio >= 1 ? ' The wider segment is buying it at least as much as the model expects' : ' The wider segment is buying it less than the model expects') +
          (o.expected < 5 ? ', but on so few expected purchases the figure is noisy.' : '.');
    return { segment: g.segment, label: labelOf(labels, g.segment), members: figures(m), nonMembers: figures(o), suggests };
  });
  const summary =
    `Since the launch on ${isoOfDay(launchDay)} (to ${report.asOf}), the ${memberFigures.customers} members bought ${subjectName} on ${memberFigures.actual} purchase days against ${memberFigures.expected.toFixed(1)} expected (${times(memberFigures.ratio)}); ` +
    `the other ${otherFigures.customers.toLocaleString('en-US')} customers on ${otherFigures.actual} against ${otherFigures.expected.toFixed(1)} (${times(otherFigures.ratio)}). Observational: members were chosen and took part by choice.`;
  return {
    available: true,
    reason: null,
    underTest,
    launchedAt: iso(p.launched_at),
    window: { from: isoOfDay(launchDay), to: report.asOf, weeks: round((endDay - launchDay + 1) / 7, 2) },
    model: { name: PURCHASE_MODEL_LABELS[modelName], runAsOf: report.asOf },
    baseShare: { share: round(baseShare.share, 4), from: baseShare.from },
    statuses: [...statuses],
    members: figures(memberFigures),
    nonMembers: figures(otherFigures),
    segments: segmentRows,
    formula: LAUNCH_FORMULA,
    caveat: LAUNCH_CAVEAT,
    summary,
  };
}
