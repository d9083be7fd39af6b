/**
 * A job's thread (see runner.ts): opens its own connection to the server's database, loads the
 * job from the module that defines it, runs it once, replies with the result or the error, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RapportError } from '../core/errors.js';
import { lowerThreadPriority, toThreadError } from '../core/threads.js';
import { openStore } from '../store/db.js';
import type { AnyJob } from './job.js';
import type { Serialize } from '../core/serial.js';
import type { JobData, JobReply, WriteTurn } from './runner.js';

const data = workerData as JobData;

/** The exported job of that name in its module. */
async function load(spec: JobData['job']): Promise<AnyJob> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  for (const v of Object.values(mod)) {
    const j = v as Partial<AnyJob> | null;
    if (j && typeof j === 'object' && j.name === spec.name && typeof j.run === 'function') return j as AnyJob;
  }
  throw new RapportError('internal', `no job "${spec.name}" in ${spec.module}`);
}

/**
 * The job's writes, each in a turn of the server's write queue (runner.ts): asked for, waited
 * for, and handed back when the writes end, so that the server's own writes wait in its queue
 * rather than for SQLite's lock on its thread.
 */
function writeTurns(): Serialize {
  const port = parentPort!;
  const granted = new Map<number, () => void>();
  const onMessage = (m: { granted?: number }): void => {
    if (m.granted === undefined) return;
    granted.get(m.granted)?.();
    granted.delete(m.granted);
    // Listening keeps the thread alive: only while a turn is awaited.
    if (granted.size === 0) port.off('message', onMessage);
  };
  let next = 0;
  return async (fn) => {
    const id = next++;
    await new Promise<void>((resolve) => {
      if (granted.size === 0) port.on('message', onMessage);
      granted.set(id, resolve);
      port.postMessage({ turn: 'ask', id } satisfies WriteTurn);
    });
    try {
      return await fn();
    } finally {
      port.postMessage({ turn: 'done', id } satisfies WriteTurn);
    }
  };
}

// A job gives way to the server's thread (ingestion, every answer) when both want the CPU.
lowerThreadPriority();
const store = await openStore(data.target, { migrate: false });
let reply: JobReply;
try {
  const job = await load(data.job);
  const result = await job.run({ store, now: () => Date.now() + data.clockOffsetMs, serialize: data.turns && parentPort ? writeTurns() : (fn) => fn() }, data.options);
  reply = { ok: true, result };
} catch (e) {
  reply = { ok: false, error: toThreadError(e) };
} finally {
  await store.close();
}
parentPort?.postMessage(reply!);
