/**
 * Reading the stored history into the stage features (models/stages/features.ts): every
 * customer for a run, or one customer for an explanation, through the same code so that the
 * two agree.
 */
import { CONVERSATION_BIT, Features, type FeaturePlan } from '../models/stages/features.js';
import type { Store } from '../store/db.js';
import { NONE, scanFeedback, scanInteractions, scanOrders, type CustomerList } from './stages.repository.js';

/** The event name → group bit mask the interactions are coded with. */
export function groupMasks(plan: FeaturePlan, events: Record<string, string[]>): Map<string, number> {
  const masks = new Map<string, number>();
  plan.groups.forEach((g, bit) => {
    for (const name of events[g] ?? []) masks.set(name, (masks.get(name) ?? 0) | (1 << bit));
  });
  return masks;
}


/**
 * Fills features for the customers of `list` from their interactions, orders and feedback.
 * `between` runs between slices (a deadline check); `customerId` reads one customer's rows.
 */
export async function gatherFeatures(
  store: Store,
  plan: FeaturePlan,
  rules: { events: Record<string, string[]>; conversationChannels: readonly string[] },
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
    groupMasks(plan, rules.events),
    { channels: rules.conversationChannels, bit: CONVERSATION_BIT },
    (p, n) => {
      for (let k = 0; k < n * 4; k += 4) {
        const i = list.positionOf(p[k]!);
        if (i >= 0) f.addInteraction(i, p[k + 1]!, p[k + 2]!, p[k + 3]!);
      }
    },
    scanOptions,
  );
  await scanOrders(
    store,
    (p, n) => {
      for (let k = 0; k < n * 3; k += 3) {
        const i = list.positionOf(p[k]!);
        if (i >= 0) f.addOrder(i, p[k + 1]!, p[k + 2]! / 100);
      }
    },
    scanOptions,
  );
  const kindBits = new Map(plan.feedbackKinds.map((k, b) => [k, 1 << b]));
  await scanFeedback(
    store,
    kindBits,
    (p, n) => {
      for (let k = 0; k < n * 6; k += 6) {
        const i = list.positionOf(p[k]!);
        const rating = p[k + 3]!;
        const sentiment = p[k + 5]!;
        if (i >= 0) f.addFeedback(i, p[k + 1]!, p[k + 2]!, rating === NONE ? Number.NaN : rating / 100, p[k + 4]!, sentiment === NONE ? Number.NaN : sentiment / 10_000);
      }
    },
    scanOptions,
  );
  return f;
}
