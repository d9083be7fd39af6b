/**
 * The interactions table's indexes on SQLite, as migration 002 made them. A load (see
 * IngestWriter.load) drops them and builds them again from these; a test checks that they
 * still match the migrated schema.
 */
export const INTERACTION_INDEXES = [
  { name: 'interactions_customer_time', sql: 'create index interactions_customer_time on interactions (customer_id, occurred_at)' },
  { name: 'interactions_source_key', sql: 'create index interactions_source_key on interactions (source_key)' },
] as const;
