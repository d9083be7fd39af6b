/**
 * A job's thread (see runner.ts): opens its own connection to the server's database, runs the
 * one job it was given, replies with the result or the error, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRapportError } from '../core/errors.js';
import { openStore } from '../store/db.js';
import { runRequest, type JobData, type JobReply } from './runner.js';

const data = workerData as JobData;
const store = await openStore(data.target, { migrate: false });
let reply: JobReply;
try {
  const result = await runRequest(store, data.request, () => Date.now() + data.clockOffsetMs);
  reply = { ok: true, result };
} catch (e) {
  reply = isRapportError(e)
    ? { ok: false, error: { code: e.code, message: e.message, issues: e.issues } }
    : { ok: false, error: { code: null, message: e instanceof Error ? e.message : String(e), issues: [] } };
} finally {
  await store.close();
}
parentPort?.postMessage(reply!);
