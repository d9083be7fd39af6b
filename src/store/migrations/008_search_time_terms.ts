import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * PostgreSQL: the GIN index of search documents also holds time terms, so that a search can ask
 * for the matches of its words in a window of time and PostgreSQL intersects the two inside the
 * index. Newest-first reading of a word too sparse for a walk down the id index used to fetch
 * every match from the heap and sort them ("refund": 12,000 heap rows for the newest 4,000), or
 * intersect with a range of the primary key (0.1 µs per document in the range: 330,000 of them
 * for those 4,000); the time terms name the same window in three to six posting lists.
 *
 * Each document gets one term per bucket size, from its id (time-ordered: ms × 1024, see
 * search/search.indexer.ts): `#b2w<n>` for its 2-week bucket, `#b8w<n>` for 8 weeks, `#b32w<n>`
 * for 32 weeks, n = id / (weeks × 7 days × 1024). A window is covered by at most six buckets of
 * one size (search.repository.ts). Few terms matter: GIN tests each candidate against the whole
 * query, and "refund" in 42 one-week buckets took 23 ms in the index where five 8-week buckets take 3.
 * No query the user types can name a time term: `to_tsquery` never yields a lexeme with `#`, so
 * a match through the index and a test of `tsv` row by row always agree.
 *
 * The terms live in the index expression, not in the stored `tsv`: the table is not rewritten
 * (the index builds in about 15 s at a million documents), documents stay as large as they were
 * (a walk reads them), and ranking and phrases see only the text. The expression replaces the
 * index on `tsv` alone; queries that want the GIN index spell it exactly as here (the planner
 * matches index expressions structurally), see TERMS in search.repository.ts.
 * SQLite: nothing to do (FTS5 reads its doclists in id order already).
 */
export function searchTimeTerms(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`drop index search_docs_tsv`.execute(db);
      await sql`set local maintenance_work_mem = '256MB'`.execute(db);
      await sql`create index search_docs_terms on search_docs using gin ((tsv || array_to_tsvector(array[
          '#b2w' || (id / 1238630400000)::text, '#b8w' || (id / 4954521600000)::text, '#b32w' || (id / 19818086400000)::text])))`.execute(db);
      await sql`analyze search_docs`.execute(db);
    },
  };
}
