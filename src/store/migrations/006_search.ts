import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Full-text search over what customers said: feedback, customers, and interactions that carry
 * free text (search queries, chat notes…).
 *
 * - `search_docs`: one row per searchable record, a copy of its text (title, body) plus what
 *   filters need (source, kind, customer, time). Its id is time-ordered (`at` × 1024 + a few
 *   bits, see search/search.indexer.ts), so "newest first" is id order and a date range is an
 *   id range, on both dialects.
 * - SQLite: `search_fts`, an FTS5 index whose content is `search_docs` (porter stemming over
 *   unicode61, prefix indexes for 2 and 3 characters, bm25 with the title weighted double, and
 *   filter tokens in a third column so that kind and customer filters are part of the match),
 *   kept in step with `search_docs` by its triggers. PostgreSQL: a stored `tsvector` column
 *   (title weight A, body B, english configuration) with a GIN index.
 * - `search_state`: the high-water mark (largest source id indexed) per source. New records
 *   are indexed by the incremental indexer, not by insert triggers: the ingestion hot path
 *   (millions of interactions, most without text) pays nothing.
 * - Deletes and moves are rare and are followed by triggers on the sources: an erased
 *   customer's documents go with their rows (the cascade deletes fire them), a merge moves
 *   documents to the surviving customer, and a changed name, e-mail or traits puts the
 *   customer in `search_dirty` for the indexer.
 */
export function search(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const pgVector = dialect === 'postgres';
      await db.schema
        .createTable('search_docs')
        .addColumn('id', 'bigint', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_id', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      if (dialect === 'sqlite') {
        // `bigint primary key` is not a rowid alias in SQLite: rebuild as `integer primary key`.
        await sql`drop table search_docs`.execute(db);
        await sql`create table search_docs (
          id integer primary key,
          source text not null,
          source_id bigint not null,
          kind text not null,
          customer_id bigint,
          at bigint not null,
          title text not null default '',
          body text not null,
          meta text not null default ''
        )`.execute(db);
      }
      await db.schema.createIndex('search_docs_source').unique().on('search_docs').columns(['source', 'source_id']).execute();
      await db.schema.createIndex('search_docs_customer').on('search_docs').columns(['customer_id', 'id']).execute();
      await db.schema
        .createTable('search_state')
        .addColumn('source', 'text', (c) => c.primaryKey())
        .addColumn('last_id', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('search_dirty').addColumn('customer_id', 'bigint', (c) => c.primaryKey()).execute();

      if (pgVector) {
        await sql`alter table search_docs add column tsv tsvector generated always as (
          setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) stored`.execute(db);
        await sql`create index search_docs_tsv on search_docs using gin (tsv)`.execute(db);
        await sql`create function search_source_deleted() returns trigger language plpgsql as $$
          begin
            delete from search_docs d using old_rows o where d.source = TG_ARGV[0] and d.source_id = o.id;
            if TG_ARGV[0] = 'customer' then
              delete from search_dirty s using old_rows o where s.customer_id = o.id;
            end if;
            return null;
          end $$`.execute(db);
        await sql`create function search_source_moved() returns trigger language plpgsql as $$
          begin
            update search_docs set customer_id = new.customer_id where source = TG_ARGV[0] and source_id = new.id;
            return null;
          end $$`.execute(db);
        await sql`create function search_customer_changed() returns trigger language plpgsql as $$
          begin
            insert into search_dirty (customer_id) values (new.id) on conflict do nothing;
            return null;
          end $$`.execute(db);
        for (const [table, source] of [['feedback', 'feedback'], ['interactions', 'interaction'], ['customers', 'customer']] as const) {
          await sql`create trigger ${sql.raw(`search_${table}_deleted`)} after delete on ${sql.table(table)}
            referencing old table as old_rows for each statement execute function search_source_deleted(${sql.lit(source)})`.execute(db);
        }
        for (const [table, source] of [['feedback', 'feedback'], ['interactions', 'interaction']] as const) {
          await sql`create trigger ${sql.raw(`search_${table}_moved`)} after update of customer_id on ${sql.table(table)}
            for each row when (old.customer_id is distinct from new.customer_id) execute function search_source_moved(${sql.lit(source)})`.execute(db);
        }
        await sql`create trigger search_customers_changed after update of user_id, name, email, traits on customers
          for each row when (old.user_id is distinct from new.user_id or old.name is distinct from new.name
            or old.email is distinct from new.email or old.traits is distinct from new.traits)
          execute function search_customer_changed()`.execute(db);
        return;
      }

      // `meta` holds tokens for the kind, the source and the customer (xxkind1, xxsrc1,
      // xxcust<id>; see search/search.indexer.ts): kind and customer filters are then part of the match, and FTS5
      // intersects them with the words' doclists instead of checking every match.
      await sql`create virtual table search_fts using fts5(
        title, body, meta, content = 'search_docs', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')`.execute(db);
      await sql`insert into search_fts (search_fts, rank) values ('rank', 'bm25(2.0, 1.0, 0.0)')`.execute(db);
      // Indexing speed (measured on 100,000 documents, see bench/search.ts): a 16 MiB buffer of
      // pending terms instead of 1 MiB, and merging segments in larger steps, take a document
      // from ~66 to ~38 µs.
      await sql`insert into search_fts (search_fts, rank) values ('hashsize', 16777216)`.execute(db);
      await sql`insert into search_fts (search_fts, rank) values ('automerge', 8)`.execute(db);
      for (const statement of SQLITE_FTS_TRIGGERS) await sql.raw(statement).execute(db);
      for (const [table, source] of [['feedback', 'feedback'], ['interactions', 'interaction']] as const) {
        await sql.raw(`create trigger search_${table}_deleted after delete on ${table} begin
            delete from search_docs where source = '${source}' and source_id = old.id;
          end`).execute(db);
        await sql.raw(`create trigger search_${table}_moved after update of customer_id on ${table}
          when old.customer_id is not new.customer_id begin
            update search_docs set customer_id = new.customer_id,
                meta = substr(meta, 1, ${source === 'feedback' ? 14 : 7}) || coalesce(' xxcust' || new.customer_id, '')
              where source = '${source}' and source_id = new.id;
          end`).execute(db);
      }
      await sql`create trigger search_customers_deleted after delete on customers begin
          delete from search_docs where source = 'customer' and source_id = old.id;
          delete from search_dirty where customer_id = old.id;
        end`.execute(db);
      await sql`create trigger search_customers_changed after update of user_id, name, email, traits on customers
        when old.user_id is not new.user_id or old.name is not new.name or old.email is not new.email or old.traits is not new.traits begin
          insert or ignore into search_dirty (customer_id) values (new.id);
        end`.execute(db);
    },
  };
}

/**
 * SQLite: the triggers that keep the FTS5 index in step with `search_docs` (its external
 * content). A rebuild drops the insert trigger, fills the table, and has FTS5 read it in one
 * sorted pass ('rebuild'), which is several times faster than row by row.
 */
export const SQLITE_FTS_INSERT_TRIGGER = `create trigger search_docs_ai after insert on search_docs begin
    insert into search_fts (rowid, title, body, meta) values (new.id, new.title, new.body, new.meta);
  end`;
export const SQLITE_FTS_DELETE_TRIGGER = `create trigger search_docs_ad after delete on search_docs begin
    insert into search_fts (search_fts, rowid, title, body, meta) values ('delete', old.id, old.title, old.body, old.meta);
  end`;
/** A merge moves documents to another customer: their customer token changes. */
const SQLITE_FTS_UPDATE_TRIGGER = `create trigger search_docs_au after update of meta on search_docs begin
    insert into search_fts (search_fts, rowid, title, body, meta) values ('delete', old.id, old.title, old.body, old.meta);
    insert into search_fts (rowid, title, body, meta) values (new.id, new.title, new.body, new.meta);
  end`;
const SQLITE_FTS_TRIGGERS = [SQLITE_FTS_INSERT_TRIGGER, SQLITE_FTS_DELETE_TRIGGER, SQLITE_FTS_UPDATE_TRIGGER];
