#!/usr/bin/env node
// The installed `rapport` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const compiled = path.join(root, 'dist', 'cli', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write('rapport: not built yet; run `npm install` (or `npm run build`) in ' + root + '\n');
  process.exit(1);
}
await import(compiled);
