import { sql, type RawBuilder } from 'kysely';
import type { Conn, Dialect } from './db.js';

/** Helpers for statements that both dialects run but spell differently. */

export type SqlType = 'bigint' | 'double precision' | 'text';

function cast(value: unknown, type: SqlType): RawBuilder<unknown> {
  return sql`cast(${value} as ${sql.raw(type)})`;
}

/** `least`/`greatest` on PostgreSQL, the two-argument scalar `min`/`max` on SQLite. */
export function least(dialect: Dialect): string {
  return dialect === 'postgres' ? 'least' : 'min';
}
export function greatest(dialect: Dialect): string {
  return dialect === 'postgres' ? 'greatest' : 'max';
}

/**
 * Updates many rows in one statement: `UPDATE t SET … FROM (VALUES …) AS v WHERE t.key = v.column1`.
 * `set` maps a column to an SQL expression over `v.columnN` (N from 2: column1 is the key).
 * Rows are chunked to stay under both dialects' parameter limits.
 */
export async function updateFromValues(
  db: Conn,
  table: string,
  key: string,
  types: readonly SqlType[],
  rows: readonly (readonly unknown[])[],
  set: Record<string, string>,
): Promise<void> {
  if (rows.length === 0) return;
  const perChunk = Math.max(1, Math.floor(30000 / types.length));
  const sets = sql.raw(
    Object.entries(set)
      .map(([col, expr]) => `${col} = ${expr}`)
      .join(', '),
  );
  for (let i = 0; i < rows.length; i += perChunk) {
    const chunk = rows.slice(i, i + perChunk);
    const values = sql.join(chunk.map((r) => sql`(${sql.join(r.map((v, j) => cast(v, types[j]!)))})`));
    await sql`update ${sql.table(table)} set ${sets} from (values ${values}) as v where ${sql.ref(`${table}.${key}`)} = v.column1`.execute(db);
  }
}

/** Splits an array into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const DAY = 86_400_000;

/**
 * SQL for the day (days since 1970-01-01, UTC) of an epoch-milliseconds expression, floored on
 * both dialects: SQLite's integer division truncates towards zero, so an instant before 1970
 * would land a day late without the correction.
 */
export function dayOfMsSql(dialect: Dialect, expr: string): string {
  return dialect === 'postgres'
    ? `floor((${expr}) / ${DAY}::float8)::int`
    : // Times from 1970 on (nearly all) take the plain division: the correction costs the summary
      // of 10M orders 12% when every row pays for it.
      `(case when (${expr}) >= 0 then cast((${expr}) / ${DAY} as integer) else cast((${expr}) / ${DAY} as integer) - ((${expr}) % ${DAY} != 0) end)`;
}

/** `YYYY-MM` (UTC) of an epoch-milliseconds column. */
export function monthOfMsSql(dialect: Dialect, expr: string): string {
  return dialect === 'postgres'
    ? `to_char(to_timestamp((${expr}) / 1000.0) at time zone 'UTC', 'YYYY-MM')`
    : `strftime('%Y-%m', (${expr}) / 1000, 'unixepoch')`;
}

/** `dayOfMsSql` and `monthOfMsSql` as query-builder expressions. */
export const dayOfMs = (dialect: Dialect, expr: string): RawBuilder<number> => sql<number>`${sql.raw(dayOfMsSql(dialect, expr))}`;
export const monthOfMs = (dialect: Dialect, expr: string): RawBuilder<string> => sql<string>`${sql.raw(monthOfMsSql(dialect, expr))}`;
