import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * SQLite: interactions are deduplicated through an 8-byte fingerprint of (source, source id)
 * (`source_key`, see store/source-key.ts) in a plain index, instead of a unique index on the
 * text pair. The writer looks a record up by key and compares the pair itself, so the rule
 * is unchanged (one row per source and source id), but the index is a seventh of the size:
 * a stream of random message ids keeps it in the page cache several times longer, which is
 * what bounds bulk-load speed. SQLite cannot drop a table constraint, so the table is
 * rebuilt; `rapport_source_key()` is the same function, registered on every connection.
 *
 * PostgreSQL keeps its unique constraint: its writes are multi-row upserts that rely on it.
 */
export function interactionKeys(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'sqlite') return;
      await sql`create table interactions_v2 (
        id integer primary key autoincrement,
        customer_id bigint not null references customers (id) on delete cascade,
        type text not null,
        name text not null,
        channel text not null,
        direction text not null,
        occurred_at bigint not null,
        properties text not null default '{}',
        source text not null,
        source_id text not null,
        received_at bigint not null,
        source_key integer not null
      )`.execute(db);
      await sql`insert into interactions_v2 (id, customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, source_key)
        select id, customer_id, type, name, channel, direction, occurred_at, properties, source, source_id, received_at, rapport_source_key(source, source_id)
        from interactions order by id`.execute(db);
      await sql`drop table interactions`.execute(db);
      await sql`alter table interactions_v2 rename to interactions`.execute(db);
      await sql`create index interactions_customer_time on interactions (customer_id, occurred_at)`.execute(db);
      await sql`create index interactions_source_key on interactions (source_key)`.execute(db);
    },
  };
}
