import type { Conn } from '../store/db.js';

/** Queries on `text_models`, the latest trained model per purpose. Only queries: encoding and the version check's meaning live in model-store.ts. */

export interface ModelRow {
  purpose: string;
  run_id: number | null;
  model: Buffer;
  created_at: number;
}

/** When and by which run the model of a purpose was saved (undefined when none is stored). */
export async function modelStamp(db: Conn, purpose: string): Promise<{ created_at: number; run_id: number | null } | undefined> {
  return db.selectFrom('text_models').select(['created_at', 'run_id']).where('purpose', '=', purpose).executeTakeFirst();
}

/** The stored bytes of a purpose's model (undefined when none is stored). */
export async function modelBytes(db: Conn, purpose: string): Promise<Buffer | undefined> {
  const row = await db.selectFrom('text_models').select('model').where('purpose', '=', purpose).executeTakeFirst();
  return row?.model;
}

/** Writes a purpose's model, replacing whatever is stored. */
export async function upsertModel(db: Conn, row: ModelRow): Promise<void> {
  await db
    .insertInto('text_models')
    .values(row)
    .onConflict((oc) => oc.column('purpose').doUpdateSet({ run_id: row.run_id, model: row.model, created_at: row.created_at }))
    .execute();
}

/** Writes a purpose's model only if none is stored; the number of rows written (0 or 1). */
export async function insertModelIfAbsent(db: Conn, row: ModelRow): Promise<bigint> {
  const r = await db.insertInto('text_models').values(row).onConflict((oc) => oc.column('purpose').doNothing()).executeTakeFirst();
  return r.numInsertedOrUpdatedRows ?? 0n;
}

/** Replaces a purpose's model only if the stored one was saved at `createdAt` by `runId`; the number of rows written (0 or 1). */
export async function replaceModelIf(db: Conn, row: ModelRow, createdAt: number, runId: number | null): Promise<bigint> {
  const r = await db
    .updateTable('text_models')
    .set({ run_id: row.run_id, model: row.model, created_at: row.created_at })
    .where('purpose', '=', row.purpose)
    .where('created_at', '=', createdAt)
    .where((eb) => (runId === null ? eb('run_id', 'is', null) : eb('run_id', '=', runId)))
    .executeTakeFirst();
  return r.numUpdatedRows;
}

/** Removes a purpose's model. */
export async function deleteModel(db: Conn, purpose: string): Promise<void> {
  await db.deleteFrom('text_models').where('purpose', '=', purpose).execute();
}

/** Moves a purpose's model to another purpose (a renamed tag set). */
export async function renamePurpose(db: Conn, from: string, to: string): Promise<void> {
  await db.deleteFrom('text_models').where('purpose', '=', to).execute();
  await db.updateTable('text_models').set({ purpose: to }).where('purpose', '=', from).execute();
}

/** The purposes that have a stored model. */
export async function modelPurposes(db: Conn): Promise<string[]> {
  return (await db.selectFrom('text_models').select('purpose').orderBy('purpose').execute()).map((r) => r.purpose);
}
