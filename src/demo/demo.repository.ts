import { sql } from 'kysely';
import type { Conn } from '../store/db.js';
import { chunks } from '../store/sql.js';

/**
 * Queries of the demo company that no other capability has: its description in `meta` (key
 * `demo`), the true parameters behind each customer (`demo_truth`), and the tickets its
 * support team tagged. Everything else the demo stores goes through the ingestion writer and
 * listening's tags service, as a user's data would.
 */

const META_KEY = 'demo';

/** The stored demo description (JSON), or null when the database holds no demo. */
export async function readDemoMeta(db: Conn): Promise<string | null> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', META_KEY).executeTakeFirst();
  return row ? row.value : null;
}

/** Stores the demo description (JSON), replacing the previous one. */
export async function writeDemoMeta(db: Conn, value: string): Promise<void> {
  await db
    .insertInto('meta')
    .values({ key: META_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: sql`excluded.value` }))
    .execute();
}

/** Stores customers' true parameters (JSON), replacing those of a previous run. */
export async function writeTruths(db: Conn, truths: readonly { user_id: string; params: string }[]): Promise<void> {
  for (const part of chunks(truths, 500)) {
    await db
      .insertInto('demo_truth')
      .values(part)
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ params: sql`excluded.params` }))
      .execute();
  }
}

/** Whether a tag set has an example tagged by hand. */
export async function hasHumanTags(db: Conn, tagSet: string): Promise<boolean> {
  const existing = await db.selectFrom('feedback_tags').select('feedback_id').where('tag_set', '=', tagSet).where('source', '=', 'human').limit(1).execute();
  return existing.length > 0;
}

/** The demo's tickets, oldest first. */
export async function demoTickets(db: Conn) {
  return db.selectFrom('feedback').select(['id', 'properties']).where('kind', '=', 'ticket').where('source', '=', 'demo').orderBy('id').execute();
}
