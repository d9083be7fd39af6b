import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts. Benchmarks print their figures and
 * the machine they ran on; they are never part of the test run.
 */
const [name, ...args] = process.argv.slice(2);
const dir = import.meta.dirname;
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ')}\n`);
  process.exit(2);
}
process.stdout.write(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
const mod = (await import(path.join(dir, `${name}.ts`))) as { run: (args: string[]) => Promise<void> };
await mod.run(args);
