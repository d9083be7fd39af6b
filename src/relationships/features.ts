/**
 * Reading the stored history into the stage features (models/stages/features.ts): every
 * customer for a run, or one customer for an explanation, through the same code so that the
 * two agree.
 */
import { Features, type FeaturePlan } from '../models/stages/features.js';
import type { Store } from '../store/db.js';
import { scanFeedback, scanInteractions, scanOrders, type CustomerList } from './stages.repository.js';

/** The event name → group bit mask the interactions are coded with. */
export function groupMasks(plan: FeaturePlan, events: Record<string, string[]>): Map<string, number> {
  const masks = new Map<string, number>();
  plan.groups.forEach((g, bit) => {
    for (const name of events[g] ?? []) masks.set(name, (masks.get(name) ?? 0) | (1 << bit));
  });
  return masks;
}

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

/**
 * Fills features for the customers of `list` from their interactions, orders and feedback.
 * `between` runs between slices (a deadline check); `customerId` reads one customer's rows.
 */
export async function gatherFeatures(
  store: Store,
  plan: FeaturePlan,
  events: Record<string, string[]>,
  list: CustomerList,
  o: { customerId?: number; between?: () => void } = {},
): Promise<Features> {
  const f = new Features(plan, list.ids.length);
  list.firstSeen.forEach((t, i) => {
    if (Number.isFinite(t)) f.seen(i, t);
  });
  const scanOptions = { ...(o.customerId !== undefined ? { customerId: o.customerId } : {}), ...(o.between ? { between: o.between } : {}) };
  await scanInteractions(
    store,
    groupMasks(plan, events),
    (rows) => {
      for (const r of rows) {
        const i = list.positionOf(Number(r[0]));
        if (i >= 0) f.addInteraction(i, Number(r[1]), Number(r[2]), Number(r[3]));
      }
    },
    scanOptions,
  );
  await scanOrders(
    store,
    (rows) => {
      for (const r of rows) {
        const i = list.positionOf(Number(r[0]));
        if (i >= 0) f.addOrder(i, Number(r[1]), Number(r[2]));
      }
    },
    scanOptions,
  );
  const kindBits = new Map(plan.feedbackKinds.map((k, b) => [k, 1 << b]));
  await scanFeedback(
    store,
    kindBits,
    (rows) => {
      for (const r of rows) {
        const i = list.positionOf(Number(r[0]));
        if (i >= 0) f.addFeedback(i, Number(r[1]), Number(r[2]), num(r[3]), Number(r[4]), num(r[5]));
      }
    },
    scanOptions,
  );
  return f;
}
