/**
 * A thread that counts one range of the interactions for a stages run (features.ts splits the
 * table between this thread and the run's own), so that a run over tens of millions of rows
 * uses two cores. It reads with a connection of its own that only reads, at a lowered priority,
 * and hands its counts back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority, toThreadError } from '../core/threads.js';
import { CONVERSATION_BIT, featurePlan, Features } from '../models/stages/features.js';
import type { StageRules } from '../models/stages/rules.js';
import type { DatabaseTarget } from '../core/config.js';
import { openStore } from '../store/db.js';
import { groupMasks } from './features.js';
import { positions, scanInteractions } from './stages.repository.js';

interface ScanJob {
  target: DatabaseTarget;
  rules: StageRules;
  asOf: number;
  ids: Float64Array;
  range: [number, number];
}

lowerThreadPriority();
const job = workerData as ScanJob;
const port = parentPort!;
try {
  const store = await openStore(job.target, { migrate: false, queryOnly: true });
  try {
    const plan = featurePlan(job.rules, job.asOf);
    const f = new Features(plan, job.ids.length);
    const positionOf = positions(job.ids);
    await scanInteractions(
      store,
      groupMasks(plan, job.rules.events, job.rules.reactions),
      { channels: job.rules.conversationChannels, bit: CONVERSATION_BIT },
      (p, n) => {
        for (let k = 0; k < n * 4; k += 4) {
          const i = positionOf(p[k]!);
          if (i >= 0) f.addInteraction(i, p[k + 1]!, p[k + 2]!, p[k + 3]!);
        }
      },
      { range: job.range },
    );
    const out = { counts: f.counts, monthBits: f.monthBits, state: f.state };
    port.postMessage({ ok: true, features: out }, Object.values(out).map((a) => a.buffer as ArrayBuffer));
  } finally {
    await store.close();
  }
} catch (e) {
  port.postMessage({ ok: false, error: toThreadError(e) });
}
