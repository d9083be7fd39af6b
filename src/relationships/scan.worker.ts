/**
 * A thread that counts one range of the interactions for a stages run (features.ts splits the
 * table between this thread and the run's own), so that a run over tens of millions of rows
 * uses two cores. It reads with a connection of its own that only reads, at a lowered priority,
 * and hands its counts back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority, toThreadError } from '../core/threads.js';
import { CONVERSATION_BIT, featurePlan, Features } from '../models/stages/features.js';
import { Timeline } from '../models/stages/timeline.js';
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
  /** count: a run's counts; rows: the interactions themselves, for a stage history of these months. */
  mode?: 'count' | 'rows';
  months?: number[];
}

lowerThreadPriority();
const job = workerData as ScanJob;
const port = parentPort!;
try {
  const store = await openStore(job.target, { migrate: false, queryOnly: true });
  try {
    const plan = featurePlan(job.rules, job.asOf);
    const positionOf = positions(job.ids);
    const scan = (add: (i: number, at: number, direction: number, groups: number) => void) =>
      scanInteractions(
        store,
        groupMasks(plan, job.rules.events, job.rules.reactions),
        { channels: job.rules.conversationChannels, bit: CONVERSATION_BIT },
        (p, n) => {
          for (let k = 0; k < n * 4; k += 4) {
            const i = positionOf(p[k]!);
            if (i >= 0) add(i, p[k + 1]!, p[k + 2]!, p[k + 3]!);
          }
        },
        { range: job.range },
      );
    if (job.mode === 'rows') {
      const t = new Timeline(job.rules, plan, job.months!, job.ids.length, { interactions: job.range[1] - job.range[0] });
      await scan((i, at, d, g) => t.addInteraction(i, at, d, g));
      const rows = t.interactionColumns();
      port.postMessage({ ok: true, rows }, [rows.pos.buffer, rows.at.buffer, rows.kind.buffer, rows.mask.buffer] as ArrayBuffer[]);
    } else {
      const f = new Features(plan, job.ids.length);
      await scan((i, at, d, g) => f.addInteraction(i, at, d, g));
      const out = { counts: f.counts, monthBits: f.monthBits, state: f.state };
      port.postMessage({ ok: true, features: out }, Object.values(out).map((a) => a.buffer as ArrayBuffer));
    }
  } finally {
    await store.close();
  }
} catch (e) {
  port.postMessage({ ok: false, error: toThreadError(e) });
}
