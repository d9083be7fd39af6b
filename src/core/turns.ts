import { RapportError } from './errors.js';

/**
 * Admission for a costly kind of request: at most `slots` at once, at most `waiting` in line
 * behind them, each waiting at most its own bound. Past either, the answer is `busy` (503 with
 * Retry-After) at once, so an overload turns into quick refusals instead of a queue that grows
 * without end and takes everything else's time with it.
 */
export class Turns {
  #free: number;
  readonly #line: { grant: (release: () => void) => void; refuse: (e: Error) => void }[] = [];
  readonly #waiting: number;
  readonly #what: string;

  constructor(slots: number, waiting: number, what: string) {
    this.#free = Math.max(1, slots);
    this.#waiting = Math.max(0, waiting);
    this.#what = what;
  }

  /** Takes a turn, waiting at most `waitMs`; resolves to the function that gives it back (once). */
  take(waitMs: number): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    if (this.#line.length >= this.#waiting) return Promise.reject(this.#busy('too many are running and waiting'));
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (release: () => void) => {
          clearTimeout(timer);
          resolve(release);
        },
        refuse: reject,
      };
      const timer = setTimeout(() => {
        const i = this.#line.indexOf(entry);
        if (i >= 0) this.#line.splice(i, 1);
        reject(this.#busy(`none came free within ${Math.round(waitMs / 100) / 10} s`));
      }, waitMs);
      this.#line.push(entry);
    });
  }

  /** Turns in use and waiting, for tests and figures. */
  get load(): { free: number; waiting: number } {
    return { free: this.#free, waiting: this.#line.length };
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#line.shift();
      if (next) next.grant(this.#releaser());
      else this.#free++;
    };
  }

  #busy(why: string): RapportError {
    const e = new RapportError('busy', `${this.#what}: ${why}; retry shortly`);
    e.retryAfterSeconds = 1;
    return e;
  }
}
