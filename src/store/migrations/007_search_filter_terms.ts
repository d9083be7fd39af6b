import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * PostgreSQL: the kind and the source of a search document become lexemes of its `tsvector`
 * (`xxkind1`…, `xxsrc1`, the tokens SQLite keeps in `search_fts.meta` since 006), so that a kind
 * filter is part of the `@@` match and the GIN index intersects it with the words' posting
 * lists. As a column filter it was checked on every match of the words: "refund" among
 * reviews read 10,000 heap pages to find none (~100 ms at a million documents).
 *
 * The tokens are lexemes without positions: `ts_rank` (no length normalisation) and phrase
 * matches of the user's words are unchanged. The customer filter stays a column filter: the
 * (customer_id, id) index answers it, and a merge changes it.
 *
 * The mapping is spelled out here (frozen with this migration); it must agree with
 * KIND_TOKENS and FEEDBACK_TOKEN in search/search.indexer.ts. A generated column's expression
 * cannot be altered in PostgreSQL 15: the column is dropped and added again, which rewrites
 * the table and rebuilds the GIN index (about 3 minutes at a million documents on 2 cores).
 * SQLite: nothing to do.
 */
export function searchFilterTerms(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`alter table search_docs drop column tsv`.execute(db);
      await sql`alter table search_docs add column tsv tsvector generated always as (
          setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
          || array_to_tsvector(array_remove(array[
            case kind when 'ticket' then 'xxkind1' when 'review' then 'xxkind2' when 'survey' then 'xxkind3'
              when 'interview' then 'xxkind4' when 'visit_note' then 'xxkind5' when 'customer' then 'xxkind7'
              when 'interaction' then 'xxkind8' else 'xxkind6' end,
            case when source = 'feedback' then 'xxsrc1' end], null))) stored`.execute(db);
      // A larger sort memory for this transaction only: the GIN build is then one pass.
      await sql`set local maintenance_work_mem = '256MB'`.execute(db);
      await sql`create index search_docs_tsv on search_docs using gin (tsv)`.execute(db);
      await sql`analyze search_docs`.execute(db);
    },
  };
}
