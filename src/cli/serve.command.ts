import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { action, type CliContext } from './context.js';
import { invalid } from '../core/errors.js';

/** web/dist, relative to this file both as TypeScript (src/cli) and compiled (dist/cli). */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

/** `--port` as given, else the configured port (PORT); checked like every other number. */
export function portOption(given: string | undefined, configured: number): number {
  if (given === undefined) return configured;
  const port = Number(given);
  if (given.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw invalid('--port', `expected a port number, got "${given}"`);
  return port;
}

/** Where `rapport serve` can be opened from this machine when it listens on host:port. */
export function serverUrl(host: string, port: number): string {
  const local = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', ''].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

export function registerServe(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('serve')
    .description('run the API and the web app (loads the demo company into an empty database)')
    .option('--port <n>', 'port to listen on (default: PORT or 4000)')
    .option('--host <host>', 'address to bind (default: HOST or 127.0.0.1)')
    .option('--no-demo', 'start empty instead of loading the demo company')
    .action(
      action(async (opts: { port?: string; host?: string; demo: boolean }) => {
        const c = await ctx();
        const [{ openStore }, { buildServer }, { createSignInToken, hasOpenSession, signInUrl, staffCount }, { generateDemo }] = await Promise.all([
          import('../store/db.js'),
          import('../server/app.js'),
          import('../auth/staff.js'),
          import('../demo/generate.js'),
        ]);
        const port = portOption(opts.port, c.config.port);
        const host = opts.host ?? c.config.host;
        const store = await openStore(c.config.database, { checkpointer: true });
        const where = store.target.kind === 'sqlite' ? store.target.file : 'PostgreSQL';
        c.out.write(`Rapport: database ${where}\n`);
        const { hasCustomers } = await import('../customers/customer.service.js');
        const empty = !(await hasCustomers(store.db));
        if (empty && opts.demo && c.config.demoCustomers > 0) {
          c.out.write(`Empty database: loading the demo company (${c.config.demoCustomers} customers, seed 1)…\n`);
          const t0 = Date.now();
          const s = await generateDemo(store, { customers: c.config.demoCustomers, seed: 1 });
          c.out.write(`Demo company loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(s)}\n`);
          // The support team's hand-tagged tickets; the schedule's first run values customers and listens.
          const { tagDemoTickets } = await import('../demo/tags.js');
          await tagDemoTickets(store, Date.now());
        }
        const hours = c.config.clvEveryHours;
        const log = (m: string): void => void c.out.write(`${m}\n`);
        const app = await buildServer({ store, webRoot: WEB_ROOT, logLevel: c.config.logLevel, schedule: hours > 0 ? { everyMs: hours * 3_600_000, log } : false, indexSearch: true, jobThreads: true, jobMemoryMb: c.config.jobMemoryMb, jobDeadlineMs: c.config.jobDeadlineMinutes * 60_000, futureDays: c.config.futureDays, publicUrl: c.config.publicUrl, rateLimits: c.config.rateLimits, importMaxBytes: c.config.importMaxMb * 1024 * 1024, search: c.config.search, shedding: c.config.shedding });
        const address = await app.listen({ port, host });
        const shown = c.config.publicUrl ?? address.replace('127.0.0.1', 'localhost');
        c.out.write(`Rapport is running at ${shown}  (API docs: ${shown}/api/openapi.json)\n`);
        // Every start says how to get in: a first start (or one where every session has expired)
        // prints a one-time link; otherwise the command that makes one.
        const linkCommand = `rapport staff link${opts.port === undefined || c.config.publicUrl ? '' : ` --port ${port}`}`;
        if ((await staffCount(store.db)) === 0) {
          const token = await createSignInToken(store.db, Date.now());
          c.out.write(`\nNo staff user yet. Sign in as the first admin (one-time link, valid 24 h):\n    ${signInUrl(shown, token)}\n\n`);
        } else if (!(await hasOpenSession(store.db, Date.now()))) {
          const token = await createSignInToken(store.db, Date.now());
          c.out.write(`\nNo one is signed in. Sign in (one-time link, valid 24 h; another: ${linkCommand}):\n    ${signInUrl(shown, token)}\n\n`);
        } else {
          c.out.write(`\nSigned-in browsers stay signed in. To sign in elsewhere, make a one-time link: ${linkCommand}\n\n`);
        }
        const stop = async () => {
          await app.close();
          await store.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      }),
    );
}
