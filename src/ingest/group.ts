import type { IngestRecord, WriteCounts } from './records.js';
import type { IngestWriter } from './writer/writer.js';

interface Pending {
  records: readonly IngestRecord[];
  resolve: (counts: WriteCounts) => void;
  reject: (error: unknown) => void;
}

/** At most this many requests share one transaction, so that a group's latency stays bounded. */
const MAX_GROUP = 32;

/**
 * Group commit for the tracking API. Requests that arrive while a write is under way wait,
 * then are written together: one transaction, each request in its own savepoint. A request
 * that fails is undone alone (its caller gets its error); the others are answered only after
 * the shared commit, so a success always means stored. A commit costs about as much as the
 * writes of a 100-event batch (every touched index page is written to the log), so under
 * load this halves the cost per event; with a single client it changes nothing.
 *
 * `exclusive` runs every group, so writes still happen one at a time per process, in order
 * with the server's other writes (erasures).
 */
export class GroupCommit {
  private readonly pending: Pending[] = [];
  private draining = false;

  constructor(
    private readonly writer: IngestWriter,
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  /** Resolves once the records are committed (with what the write did), or rejects with its error. */
  write(records: readonly IngestRecord[]): Promise<WriteCounts> {
    return new Promise<WriteCounts>((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Start after the requests already read in this turn of the event loop have queued
        // theirs: writes are synchronous underneath, so nothing else is read while one runs.
        setImmediate(() => void this.exclusive(() => this.drain()));
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.writeGroup(this.pending.splice(0, MAX_GROUP));
    } finally {
      this.draining = false;
    }
  }

  private async writeGroup(group: readonly Pending[]): Promise<void> {
    if (group.length === 1) {
      const only = group[0]!;
      try {
        only.resolve(await this.writer.write(only.records));
      } catch (e) {
        only.reject(e);
      }
      return;
    }
    const outcomes: ({ ok: WriteCounts } | { error: unknown })[] = [];
    try {
      await this.writer.bulk(
        async () => {
          for (const item of group) {
            try {
              outcomes.push({ ok: await this.writer.write(item.records) });
            } catch (e) {
              outcomes.push({ error: e });
            }
          }
        },
        { commitEveryMs: Number.POSITIVE_INFINITY },
      );
    } catch (e) {
      // The shared commit failed: nothing of the group is stored.
      for (const item of group) item.reject(e);
      return;
    }
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if ('ok' in o) item.resolve(o.ok);
      else item.reject(o.error);
    });
  }
}
