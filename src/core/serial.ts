/** Runs async functions one at a time, in the order given (a failure does not stop the queue). */
export type Serialize = <T>(fn: () => Promise<T>) => Promise<T>;

/** A new queue: each call starts once every earlier call has settled. */
export function serialQueue(): Serialize {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Shares runs of `fn` among callers: a call gets a run that started at or after the call (so
 * it sees everything done before it), and callers arriving while one runs share the next.
 * At most one run at a time, and at most one waiting, however many callers.
 */
export function coalesced<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const run = fn().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return () => {
    if (!running) return start();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
