import type { Command } from 'commander';
import { RapportError } from '../core/errors.js';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';

/** `rapport actions …`: next best relationship actions, and marking them done. */
export function registerActions(program: Command, ctx: () => Promise<CliContext>): void {
  const actions = program.command('actions').description('next best relationship actions: whom to engage, how, and what is at stake');
  actions
    .command('list', { isDefault: true })
    .description('open actions, most at stake first')
    .option('--kind <kind>', 'only this kind (answer_ticket, invite_review, invite_interview, …)')
    .option('--limit <n>', 'how many (1–200)', '20')
    .option('--json', 'print them as JSON')
    .action(
      action(async (flags: { kind?: string; limit: string; json?: boolean }) => {
        const { ActionParams, listActions } = await import('../relationships/actions.service.js');
        const parsed = ActionParams.safeParse({ kind: flags.kind, limit: flags.limit });
        if (!parsed.success) throw new RapportError('invalid_input', `--${String(parsed.error.issues[0]!.path[0])}: ${parsed.error.issues[0]!.message}`);
        const c = await ctx();
        const r = await withStore(c, (store) => listActions(store, parsed.data), READS_ONLY);
        if (flags.json) return void c.out.write(`${JSON.stringify(r)}\n`);
        if (r.items.length === 0) return void c.out.write('No open actions (run `rapport actions run` after a stages run).\n');
        const lines = r.items.map((a) => `#${a.id}  ${a.value.toFixed(2).padStart(10)}  ${(a.customer.name ?? a.customer.userId ?? '').slice(0, 24).padEnd(24)}  ${a.title}\n${' '.repeat(16)}${a.reasons.join(' ')}`);
        c.out.write(`${lines.join('\n')}\n`);
      }),
    );
  actions
    .command('run')
    .description('find the next best actions now (the server does it after each stages run)')
    .option('--json', 'print the run report as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const { runActions } = await import('../relationships/actions.job.js');
        const c = await ctx();
        const { runId, report } = await withStore(c, (store) => runActions(store, { trigger: 'cli' }));
        if (flags.json) return void c.out.write(`${JSON.stringify({ runId, ...report })}\n`);
        c.out.write(`${report.actions} actions for ${report.customers} customers looked at: ${Object.entries(report.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
      }),
    );
  for (const how of ['done', 'dismiss'] as const) {
    actions
      .command(`${how} <id>`)
      .description(how === 'done' ? 'mark an action done: the interaction it was is recorded for the customer' : 'dismiss an action (not suggested again for 30 days)')
      .option('--note <text>', 'a note')
      .option('--json', 'print the result as JSON')
      .action(
        action(async (id: string, flags: { note?: string; json?: boolean }) => {
          const n = Number(id);
          if (!Number.isSafeInteger(n) || n < 1) throw new RapportError('invalid_input', `id: expected an action number; got ${id}`);
          const { closeAction } = await import('../relationships/actions.service.js');
          const { IngestWriter } = await import('../ingest/writer/writer.js');
          const c = await ctx();
          const r = await withStore(c, (store) => closeAction(store, new IngestWriter(store), n, how === 'done' ? 'done' : 'dismissed', flags.note ? { note: flags.note } : {}, 'cli'));
          if (flags.json) return void c.out.write(`${JSON.stringify(r)}\n`);
          c.out.write(`#${n} ${r.action.status}${r.recorded ? `: recorded ${r.recorded.name} (${r.recorded.direction}, ${r.recorded.channel})` : ''}\n`);
        }),
      );
  }
}
