import type { Kysely, Migration } from 'kysely';

/** Micro-segments: the segment of each customer from the latest customer-value run. */
export function customerSegments(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('customer_values').addColumn('segment', 'integer').execute();
    },
  };
}
