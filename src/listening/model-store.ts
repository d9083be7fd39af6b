/**
 * Stored text models (themes, tag sets): any plain object whose leaves may be typed arrays,
 * written as gzip-compressed JSON with typed arrays as base64 (a Float32Array of 2^18 × 6
 * mostly-zero weights shrinks from 6 MB to a few hundred kB).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Conn } from '../store/db.js';

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

export async function saveModel(db: Conn, purpose: string, model: unknown, runId: number | null, now: number): Promise<number> {
  const bytes = encodeModel(model);
  await db
    .insertInto('text_models')
    .values({ purpose, run_id: runId, model: bytes, created_at: now })
    .onConflict((oc) => oc.column('purpose').doUpdateSet({ run_id: runId, model: bytes, created_at: now }))
    .execute();
  return bytes.byteLength;
}

export async function loadModel<T>(db: Conn, purpose: string): Promise<T | null> {
  const row = await db.selectFrom('text_models').select('model').where('purpose', '=', purpose).executeTakeFirst();
  return row ? decodeModel<T>(row.model) : null;
}
