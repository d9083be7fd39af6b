import { createRequire } from 'node:module';
import type SQLiteType from 'better-sqlite3';

/**
 * The SQLite driver for the Node version at hand. better-sqlite3 12 is built on Node's own
 * `ObjectWrap`, and on Node 24 its statements' destructors abort the process at exit
 * ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook); 13 is built on
 * Node-API and does not, but it crashes on Node 20. So: 13 (installed as `better-sqlite3-13`,
 * prebuilt, nothing to compile) on Node 22 and later, 12 on Node 20. Both have the same API.
 */
const major = Number(process.versions.node.split('.')[0]);

/** The package name of the driver in use (a worker thread loads the same one). */
export const SQLITE_DRIVER = major >= 22 ? 'better-sqlite3-13' : 'better-sqlite3';

const require = createRequire(import.meta.url);

/** The driver's Database class. */
export const SQLite = require(SQLITE_DRIVER) as typeof SQLiteType;

/** The resolved path of the driver's main module, for worker threads. */
export const sqliteDriverPath = (): string => require.resolve(SQLITE_DRIVER);
