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
