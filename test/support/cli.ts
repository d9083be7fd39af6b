import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from './stores.js';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

/** Runs `rapport …` in a child process (as a user would), optionally on another database. */
export function rapport(args: string[], databaseUrl?: string): { code: number | null; out: string; err: string } {
  const env = databaseUrl === undefined ? process.env : { ...process.env, DATABASE_URL: databaseUrl };
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * BANKING77's train.csv from the shared data: its path, and a reason to skip when it is missing
 * (under CI=true a missing file fails the suite instead).
 */
export const BANKING = path.join(SHARED_DATA, 'banking77', 'train.csv');
const hasBanking = fs.existsSync(BANKING);
if (!hasBanking && process.env['CI'] === 'true') throw new Error(`${BANKING} is required under CI (set RAPPORT_SHARED_DATA)`);
export const skipBanking: string | false = hasBanking ? false : `${BANKING} not found: set RAPPORT_SHARED_DATA to the shared data directory to run this`;
