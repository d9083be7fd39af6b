import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RapportError } from '../core/errors.js';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';

/** `rapport stages …`: the LOVE ladder, a customer's stage explained, the rules. */
export function registerStages(program: Command, ctx: () => Promise<CliContext>): void {
  const stages = program.command('stages').description('relationship stages (LOVE): Introduction → Information → Commitment → Affinity → Co-creation');
  stages
    .command('run')
    .description('place every customer and account on the ladder, with momentum; the server also does this after new data and daily')
    .option('--json', 'print the run report as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const { runStages } = await import('../relationships/stages.job.js');
        const c = await ctx();
        const { runId, report } = await withStore(c, (store) => runStages(store, { trigger: 'cli' }));
        if (flags.json) return void c.out.write(`${JSON.stringify({ runId, ...report })}\n`);
        const n = (v: number) => v.toLocaleString('en-US');
        const lines = [`Stages as of ${report.asOf} (${report.asOfRule}), rules: ${report.rules.name}${report.rules.version === null ? ' (default)' : ` (version ${report.rules.version})`}`];
        for (const s of report.stages) lines.push(`  ${s.name.padEnd(13)} ${n(s.customers).padStart(10)}  ${((100 * s.customers) / Math.max(1, report.customers)).toFixed(1).padStart(5)}%`);
        lines.push(`Momentum: ${n(report.momentum.warming)} warming, ${n(report.momentum.steady)} steady, ${n(report.momentum.cooling)} cooling${report.pAliveRead === 0 ? ' (activity only: no customer-value run yet)' : ''}`);
        lines.push(`${n(report.customers)} customers and ${n(report.accounts)} accounts in ${(report.timings.totalMs / 1000).toFixed(1)} s`);
        c.out.write(`${lines.join('\n')}\n`);
      }),
    );
  stages
    .command('history')
    .description('where every customer stood at the end of each past month (flows, cohorts, time to each stage); incremental after new rows')
    .option('--full', 'read every customer again, even when only a few have new rows')
    .option('--json', 'print the run report as JSON')
    .action(
      action(async (flags: { json?: boolean; full?: boolean }) => {
        const { runHistory } = await import('../relationships/history.job.js');
        const c = await ctx();
        const { runId, report } = await withStore(c, (store) => runHistory(store, { trigger: 'cli', ...(flags.full ? { full: true } : {}) }));
        if (flags.json) return void c.out.write(`${JSON.stringify({ runId, ...report })}\n`);
        const n = (v: number) => v.toLocaleString('en-US');
        c.out.write(
          [
            `Stage history ${report.months.first} to ${report.months.last} (${report.months.count} month ends), ${report.mode}: ${report.why}`,
            `${n(report.read)} of ${n(report.customers)} customers read, ${n(report.rows)} rows, ${n(report.placements)} placements in ${(report.timings.totalMs / 1000).toFixed(1)} s`,
          ].join('\n') + '\n',
        );
      }),
    );
  stages
    .command('show <userId>')
    .description("a customer's stage, momentum and why: each rule with their values, and what is missing for the next stage")
    .option('--json', 'print it as JSON')
    .action(
      action(async (userId: string, flags: { json?: boolean }) => {
        const { customerStageOf } = await import('../relationships/stages.service.js');
        const c = await ctx();
        const r = await withStore(c, (store) => customerStageOf(store, userId), READS_ONLY);
        if (flags.json) return void c.out.write(`${JSON.stringify(r)}\n`);
        const m = r.momentumReading;
        const pa = m.pAliveNow === null ? 'no P(alive) (not valued)' : `P(alive) ${m.pAliveThen === null ? '' : `${m.pAliveThen.toFixed(2)} → `}${m.pAliveNow.toFixed(2)}`;
        const lines = [
          `${userId}: ${r.stage?.name ?? '(not placed by a run yet)'}, ${r.momentum ?? m.momentum} (as of ${r.asOf})`,
          `Momentum: ${m.activityPrevious} → ${m.activityRecent} touches of their own in ${m.windowDays}-day windows (${m.activity ?? 'no signal'}); ${pa} (${m.pAlive ?? 'no signal'})`,
          ...r.lines,
        ];
        if (r.lov) lines.push(...r.lov.lines);
        if (r.history) lines.push(`Month by month (${r.history.months[0]} to ${r.history.months.at(-1)}; 0 Introduction … 4 Co-creation, - not yet seen): ${r.history.stages}`);
        if (r.note) lines.push(`note: ${r.note}`);
        c.out.write(`${lines.join('\n')}\n`);
      }),
    );
  const rules = stages.command('rules').description('the rules that place customers (YAML; see rules/love-stages.yaml)');
  rules
    .command('check <file>')
    .description('check a rules file: every issue with its line and rule; exit 2 when there are any')
    .action(
      action(async (file: string) => {
        const { checkRules } = await import('../relationships/rules-file.js');
        const c = await ctx();
        const issues = checkRules(readRules(file));
        if (issues.length === 0) return void c.out.write(`${file}: the rules are valid\n`);
        throw new RapportError('invalid_input', `${file}: ${issues.length} issue${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${i}`).join('\n')}`);
      }),
    );
  rules
    .command('show')
    .description('print the rules in force (the team’s newest version, or the default)')
    .action(
      action(async () => {
        const { rulesReply } = await import('../relationships/stages.service.js');
        const c = await ctx();
        const r = await withStore(c, (store) => rulesReply(store), READS_ONLY);
        c.err.write(`# ${r.version === null ? 'the default rules' : `version ${r.version}, saved ${r.savedAt}${r.savedBy ? ` by ${r.savedBy}` : ''}`}\n`);
        c.out.write(r.source.endsWith('\n') ? r.source : `${r.source}\n`);
      }),
    );
  rules
    .command('set <file>')
    .description('replace the rules with a file (checked first: a file with errors changes nothing); the next run uses them')
    .action(
      action(async (file: string) => {
        const { saveRulesText } = await import('../relationships/stages.service.js');
        const c = await ctx();
        const r = await withStore(c, (store) => saveRulesText(store, readRules(file), 'cli'));
        c.out.write(`Rules saved as version ${r.version} (${r.name}); run \`rapport stages run\` to place customers with them\n`);
      }),
    );
}

function readRules(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new RapportError('unreadable_file', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
