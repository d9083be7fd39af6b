/**
 * Stored text models (themes, tag sets): any plain object whose leaves may be typed arrays,
 * written as gzip-compressed JSON with typed arrays as base64 (a Float32Array of 2^18 × 6
 * mostly-zero weights shrinks from 6 MB to a few hundred kB).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { RapportError } from '../core/errors.js';
import type { Conn } from '../store/db.js';
import { insertModelIfAbsent, modelBytes, modelStamp, replaceModelIf, upsertModel } from './models.repository.js';

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Uint16Array,
  Uint8Array,
  Int8Array,
  Int16Array,
} as const;
type TypedName = keyof typeof TYPED;

function replacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (!(name in TYPED)) throw new TypeError(`cannot store a ${name}`);
    return { $typed: name, b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && '$typed' in value && 'b64' in value) {
    const v = value as { $typed: TypedName; b64: string };
    const Ctor = TYPED[v.$typed];
    const bytes = Buffer.from(v.b64, 'base64');
    // Copy into a fresh, aligned buffer: a Buffer's offset may not suit wider element types.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Ctor(copy.buffer);
  }
  return value;
}

/** Encodes a model for the `text_models` table. */
export function encodeModel(model: unknown): Buffer {
  return gzipSync(JSON.stringify(model, replacer), { level: 6 });
}

/** Decodes what {@link encodeModel} wrote. */
export function decodeModel<T>(bytes: Uint8Array): T {
  return JSON.parse(gunzipSync(bytes).toString('utf8'), reviver) as T;
}

/**
 * A stored model's version (when and by which run it was saved), or null when none is stored.
 * A job that loads a model, computes for a while and saves it again passes the version it
 * loaded to saveModel, so that a change made meanwhile by another process is not overwritten.
 */
export type ModelVersion = string | null;

const versionOf = (row: { created_at: number | string | bigint; run_id: number | string | bigint | null }): string => `${Number(row.created_at)}:${row.run_id === null ? '-' : Number(row.run_id)}`;

/** The version of the model stored for `purpose`. */
export async function modelVersion(db: Conn, purpose: string): Promise<ModelVersion> {
  const row = await modelStamp(db, purpose);
  return row ? versionOf(row) : null;
}

/**
 * Saves a model. With `expected` (the version loaded before computing), the save happens only
 * if the stored model is still that version, in one statement (an update on the version, or an
 * insert that yields on conflict), and otherwise throws a conflict: the caller's transaction
 * rolls back and nothing it computed from the old model is written.
 */
export async function saveModel(db: Conn, purpose: string, model: unknown, runId: number | null, now: number, expected?: ModelVersion): Promise<number> {
  const bytes = encodeModel(model);
  const row = { purpose, run_id: runId, model: bytes, created_at: now };
  if (expected === undefined) {
    await upsertModel(db, row);
    return bytes.byteLength;
  }
  let changed: bigint;
  if (expected === null) changed = await insertModelIfAbsent(db, row);
  else {
    const [at, run] = expected.split(':');
    changed = await replaceModelIf(db, row, Number(at), run === '-' ? null : Number(run));
  }
  if (changed === 0n) throw new RapportError('conflict', `the stored ${purpose} model changed while this job computed (another run or a split, perhaps from another process); nothing was written: run it again`);
  return bytes.byteLength;
}

/** The model stored for `purpose`, decoded (null when none is stored). */
export async function loadModel<T>(db: Conn, purpose: string): Promise<T | null> {
  const bytes = await modelBytes(db, purpose);
  return bytes ? decodeModel<T>(bytes) : null;
}
