import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isRapportError, RapportError, type ErrorCode, type FieldIssue } from './errors.js';

/**
 * A worker thread's module, beside the module at `callerUrl` (pass `import.meta.url`) and named
 * `name` (without extension): JavaScript when Rapport runs compiled; TypeScript when it runs
 * from source (tests, benches), where the thread first registers the TypeScript loader that the
 * main thread's `--import tsx` does not hand on to workers.
 */
export function workerScript(callerUrl: string, name: string): { script: string | URL; eval: boolean } {
  const here = fileURLToPath(callerUrl);
  const ext = path.extname(here);
  const file = pathToFileURL(path.join(path.dirname(here), `${name}${ext}`));
  if (ext === '.js') return { script: file, eval: false };
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); }).catch((e) => { throw e; });`;
  return { script: code, eval: true };
}

/** An error as it crosses between threads (structured clone keeps no class). */
export interface ThreadError {
  code: ErrorCode | null;
  message: string;
  issues: FieldIssue[];
}

export function toThreadError(e: unknown): ThreadError {
  return isRapportError(e)
    ? { code: e.code, message: e.message, issues: e.issues }
    : { code: null, message: e instanceof Error ? e.message : String(e), issues: [] };
}

export function fromThreadError(e: ThreadError): Error {
  return e.code ? new RapportError(e.code, e.message, e.issues) : new Error(e.message);
}

/**
 * Lowers the calling thread's CPU priority (Linux: each thread has its own nice value, and
 * /proc/thread-self names the thread). Background threads (searches, jobs) call it so that, on
 * a machine with few cores, the server's own thread, which answers every request and does
 * every write, wins the CPU when they compete. Elsewhere, or when not permitted, nothing changes.
 */
export function lowerThreadPriority(nice = 10): boolean {
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (!Number.isInteger(tid) || tid <= 0) return false;
    os.setPriority(tid, Math.max(os.getPriority(tid), nice));
    return true;
  } catch {
    return false;
  }
}
