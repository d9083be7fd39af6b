import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { sqliteDriverPath } from './sqlite-driver.js';

/**
 * Checkpoints a SQLite database's write-ahead log from a thread of its own.
 *
 * In WAL mode a commit only appends pages to the log; copying them back into the database
 * file (a checkpoint, with an fsync) is by default done by whichever commit pushes the log
 * past 1000 pages, so every few hundred milliseconds one unlucky write request pays tens of
 * milliseconds for everybody. Here the writing connection stops checkpointing on its own
 * (except as a safety net, when the log passes `fallbackPages`), and a worker thread with its
 * own connection runs a PASSIVE checkpoint every `everyMs`: it never waits for or blocks
 * the writer, and its copying and fsync run on the other core.
 *
 * The log restarts from its beginning at the first commit after a complete checkpoint, and
 * `journal_size_limit` trims the file then, so it stays a few megabytes under steady load.
 */
export interface Checkpointer {
  /** Stops the thread after a last checkpoint. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  everyMs?: number;
  /** The writer checkpoints itself when the log outgrows this (a stalled or failed thread). */
  fallbackPages?: number;
}

/** The thread's code. CommonJS, evaluated: no file to find, whether Rapport runs compiled or from source. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { /* busy or closing: the next tick retries */ } };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

export function startCheckpointer(connection: SQLite.Database, file: string, options: CheckpointerOptions = {}): Checkpointer {
  const driver = sqliteDriverPath();
  connection.pragma(`wal_autocheckpoint = ${options.fallbackPages ?? 16_384}`);
  connection.pragma('journal_size_limit = 67108864');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, file, everyMs: options.everyMs ?? 250 } });
  // A failed thread leaves the writer's own checkpoints (the fallback) in charge.
  worker.on('error', () => undefined);
  worker.unref();
  let exited = false;
  worker.once('exit', () => (exited = true));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= exited
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.ref();
            worker.postMessage('stop');
          });
      return stopped;
    },
  };
}
