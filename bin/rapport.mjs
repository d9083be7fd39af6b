#!/usr/bin/env node
// The installed `rapport` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const compiled = path.join(root, 'dist', 'cli', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write('rapport: not built yet; run `npm install` (or `npm run build`) in ' + root + '\n');
  process.exit(1);
}

// `import` streams files of any size; its live data is a few batches and id caches. A bounded
// JavaScript heap makes V8 collect garbage early instead of growing, which keeps the process
// near 250 MB for a file of millions of lines. NODE_OPTIONS, when set, decides instead.
const HEAP_MB = { import: 160 };
const limit = HEAP_MB[process.argv[2]];
if (limit !== undefined && !process.env.NODE_OPTIONS?.includes('max-old-space-size') && !process.execArgv.some((a) => a.includes('max-old-space-size'))) {
  // The work runs in a child with that heap. Signals reach it: a kill of this process's id is
  // passed on, and the child watches an IPC channel to this process, so that it stops too when
  // this one dies without a word (kill -9).
  const child = spawn(process.execPath, [`--max-old-space-size=${limit}`, compiled, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (e) => {
    throw e;
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
} else {
  await import(compiled);
}

