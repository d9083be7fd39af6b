#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { cliContext } from './context.js';
import { registerServe } from './serve.command.js';
import { registerKeys } from './keys.command.js';
import { registerBackup } from './backup.command.js';
import { registerImport } from './import.command.js';
import { registerDemo } from './demo.command.js';
import { registerClv } from './clv.command.js';
import { registerText } from './text.command.js';
import { registerThemes } from './themes.command.js';
import { registerDefects } from './defects.command.js';
import { registerTags } from './tags.command.js';
import { registerSearch } from './search.command.js';

/** The `rapport` command. Each subcommand lives in its own file and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('rapport')
    .description('Rapport: a self-hosted customer-intelligence hub for product teams')
    .version(VERSION)
    .showHelpAfterError();
  const ctx = cliContext;
  registerServe(program, ctx);
  registerImport(program, ctx);
  registerDemo(program, ctx);
  registerKeys(program, ctx);
  registerBackup(program, ctx);
  registerClv(program, ctx);
  registerText(program, ctx);
  registerThemes(program, ctx);
  registerDefects(program, ctx);
  registerTags(program, ctx);
  registerSearch(program, ctx);
  return program;
}

await buildProgram().parseAsync(process.argv);
