import type { z } from 'zod';
import type { Config } from '../core/config.js';
import { invalid, isRapportError, storageError } from '../core/errors.js';
import { zodIssues } from '../core/validation.js';
import type { OpenOptions, Store } from '../store/db.js';

/**
 * What every CLI command needs: the frozen configuration and a way to open the store for the
 * length of one command. Errors become a message on stderr and the error's exit code.
 */
export interface CliContext {
  config: Config;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * The context, built on first use: commands that need neither configuration nor a database
 * (`clv fit` on a file) do not load the modules behind them, which keeps their start-up short.
 */
export async function cliContext(): Promise<CliContext> {
  const { loadConfig } = await import('../core/config.js');
  return { config: loadConfig(), out: process.stdout, err: process.stderr };
}

/**
 * For commands that only read (listing, searching, a backup): they work on a database this
 * user cannot write, which the others refuse at once (store/db.ts `allowReadOnly`).
 */
export const READS_ONLY: OpenOptions = { allowReadOnly: true };

/** Opens the store, runs `fn`, and always closes the store again. */
export async function withStore<T>(ctx: CliContext, fn: (store: Store) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const { openStore } = await import('../store/db.js');
  const store = await openStore(ctx.config.database, options);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * What a failed command prints on stderr and the code it exits with: a RapportError's message
 * (and its further issues), a full disk or read-only database as one line and its own code
 * (core/errors.ts `storageError`: exit 10, 11), anything else with its stack, exit 1.
 */
export function failure(e: unknown): { text: string; exitCode: number } {
  const known = isRapportError(e) ? e : storageError(e);
  if (!known) return { text: `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`, exitCode: 1 };
  const issues = known.issues.slice(1, 10).map((issue) => `  ${issue.row === undefined ? '' : `row ${issue.row}, `}${issue.field}: ${issue.message}\n`);
  return { text: `error: ${known.message}\n${issues.join('')}`, exitCode: known.exitCode };
}

/** Runs a command action: a failure prints as {@link failure} says and sets its exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const f = failure(e);
      process.stderr.write(f.text);
      process.exitCode = f.exitCode;
    }
  };
}

/**
 * Parses a command's flags with the API's request schema, so that both check alike. A failure
 * is one invalid-input error about zod's first issue, its field named as the user typed it
 * (`flag`: `limit` → `--limit`), its message optionally reworded.
 */
export function parseFlags<T>(schema: z.ZodType<T>, value: unknown, flag: (field: string) => string, message: (zodMessage: string) => string = (m) => m): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = zodIssues(r.error)[0]!;
  throw invalid(flag(first.field), message(first.message));
}
