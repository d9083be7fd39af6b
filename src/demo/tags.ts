import type { Store } from '../store/db.js';
import { labelItem } from '../listening/tags.service.js';
import { demoTickets, hasHumanTags } from './demo.repository.js';

/** The demo's tag set: the support team's ticket types. */
export const DEMO_TAG_SET = 'ticket type';

/**
 * The demo's support team tagged one ticket in five with its type by hand: examples the tag
 * model learns from, so the demo shows suggestions and a review queue. Does nothing when the
 * tag set already has examples (re-running the demo keeps the team's corrections).
 */
export async function tagDemoTickets(store: Store, now: number): Promise<number> {
  if (await hasHumanTags(store.db, DEMO_TAG_SET)) return 0;
  const tickets = await demoTickets(store.db);
  let n = 0;
  for (const [i, row] of tickets.entries()) {
    if (i % 5 !== 0) continue;
    const type = (JSON.parse(row.properties) as { type?: unknown }).type;
    if (typeof type !== 'string') continue;
    await labelItem(store, Number(row.id), DEMO_TAG_SET, type, 'demo support team', now);
    n++;
  }
  return n;
}
