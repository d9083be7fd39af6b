#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { cliContext } from './context.js';

const USAGE_EXIT = 2;
import { registerServe } from './serve.command.js';
import { registerKeys } from './keys.command.js';
import { registerBackup } from './backup.command.js';
import { registerImport } from './import.command.js';
import { registerDemo } from './demo.command.js';
import { registerClv } from './clv.command.js';
import { registerStages } from './stages.command.js';
import { registerAccounts } from './accounts.command.js';
import { registerPanels } from './panels.command.js';
import { registerActions } from './actions.command.js';
import { registerVisits } from './visits.command.js';
import { registerCoverage } from './coverage.command.js';
import { registerText } from './text.command.js';
import { registerThemes } from './themes.command.js';
import { registerDefects } from './defects.command.js';
import { registerTags } from './tags.command.js';
import { registerSearch } from './search.command.js';
import { registerErase } from './erase.command.js';

/** The `rapport` command. Each subcommand lives in its own file and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('rapport')
    .description('Rapport: a self-hosted customer-intelligence hub for product teams')
    .version(VERSION)
    .showHelpAfterError()
    // Commander's usage errors (a missing option or argument, an unknown option or command) exit 1;
    // here they exit 2 like every other invalid input. Help and --version keep 0. Subcommands
    // inherit this when they are added.
    .exitOverride((e) => process.exit(e.exitCode === 1 ? USAGE_EXIT : e.exitCode));
  const ctx = cliContext;
  registerServe(program, ctx);
  registerImport(program, ctx);
  registerDemo(program, ctx);
  registerKeys(program, ctx);
  registerBackup(program, ctx);
  registerClv(program, ctx);
  registerStages(program, ctx);
  registerAccounts(program, ctx);
  registerPanels(program, ctx);
  registerActions(program, ctx);
  registerVisits(program, ctx);
  registerCoverage(program, ctx);
  registerText(program, ctx);
  registerThemes(program, ctx);
  registerDefects(program, ctx);
  registerTags(program, ctx);
  registerSearch(program, ctx);
  registerErase(program, ctx);
  return program;
}

// Started by the installed launcher (bin/rapport.mjs) with a channel to it: when the launcher
// goes (killed, even with -9), so does the work, as a user who kills `rapport import` expects.
if (process.channel) {
  process.once('disconnect', () => process.exit(143));
  process.channel.unref();
}

// Output piped into a reader that stops early (`rapport themes list | head`): the rest is not
// wanted, which is no error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

await buildProgram().parseAsync(process.argv);
