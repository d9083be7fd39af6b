#!/usr/bin/env node
// The installed `rapport` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { spawnSync } from 'node:child_process';
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
  const r = spawnSync(process.execPath, [`--max-old-space-size=${limit}`, compiled, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  process.exit(r.status ?? (r.signal ? 128 : 1));
}
await import(compiled);
