import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Starts the real `rapport serve` in a child process (compiled build when present). */
export const ROOT = path.resolve(import.meta.dirname, '..');

/** The newest modification time of any file under `dir`, ms. */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** The compiled build when it is as new as the sources (`npm run build`), else the sources through tsx. */
export function cliArgs(): string[] {
  const compiled = path.join(ROOT, 'dist', 'cli', 'main.js');
  const current = fs.existsSync(compiled) && fs.statSync(compiled).mtimeMs >= newest(path.join(ROOT, 'src'));
  return current ? [compiled] : ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts')];
}

export function rapport(args: string[], env: NodeJS.ProcessEnv): string {
  return execFileSync(process.execPath, [...cliArgs(), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

export async function startServer(env: NodeJS.ProcessEnv, port: number): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...(process.env['RAPPORT_BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['RAPPORT_BENCH_PROFILE']] : []), ...cliArgs(), 'serve', '--no-demo', '--port', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Rapport is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
