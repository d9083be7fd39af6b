import type { Command } from 'commander';
import { VISIT_CHANNELS, VISIT_KINDS, VISIT_STATUSES } from '../core/vocabulary.js';
import type { Visit } from '../relationships/visits.service.js';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';
import { oneLine } from './format.js';

/** A field of the visit schemas as the flag that sets it. */
const FLAGS: Record<string, string> = { customer: '--customer', at: '--at', notes: '--notes', attendees: '--attendee', durationMinutes: '--minutes', kind: '--kind', channel: '--channel', account: '--account', status: '--status', from: '--from', to: '--to', limit: '--limit' };
const flagOf = (field: string): string => FLAGS[field.split('.')[0]!] ?? `--${field}`;

const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** One visit in a line or two, for the terminal (user text on one line, control characters removed). */
export function visitLine(v: Visit): string {
  const who = v.customer.name ? `${oneLine(v.customer.name, 40)} (${oneLine(v.customer.userId, 40)})` : oneLine(v.customer.userId, 40);
  const extra = [v.durationMinutes === null ? null : `${v.durationMinutes} min`, v.attendees.length > 0 ? `with ${v.attendees.map((a) => oneLine(a, 40)).join(', ')}` : null].filter(Boolean).join(', ');
  return `#${v.id}  ${when(v.at)}  ${v.kind.padEnd(9)} ${v.status.padEnd(9)} ${who}${extra ? `, ${extra}` : ''}${v.notes ? `\n      ${oneLine(v.notes, 100)}` : ''}`;
}

function recorded(v: Visit): string {
  if (v.status !== 'done') return v.status === 'planned' ? 'planned: it is recorded when marked done (rapport visits done <id>)' : 'cancelled';
  const parts = [`interaction ${v.interactionId ?? '?'} (${v.event}, ${v.channel}, mutual)`];
  if (v.feedbackId !== null) parts.push(`feedback item ${v.feedbackId} (${v.kind === 'interview' ? 'interview' : 'visit note'}), which listening reads`);
  return `recorded as ${parts.join(' and ')}`;
}

/** `rapport visits …`: log a visit, call, meeting or interview; list them; mark a planned one done or cancelled. */
export function registerVisits(program: Command, ctx: () => Promise<CliContext>): void {
  const visits = program.command('visits').description('visits, calls, meetings and interviews with customers, planned or past; a done one is recorded as a two-way interaction and its notes as feedback');
  visits
    .command('log')
    .description('log a visit (done unless --planned): a done one is recorded as a mutual interaction, and its notes as a feedback item listening reads')
    .requiredOption('--customer <userId>', "the customer's user id")
    .requiredOption('--at <date>', 'when: an ISO date or time (UTC unless it names an offset), e.g. 2026-03-14T10:30')
    .option('--notes <text>', 'what was said and seen')
    .option('--kind <kind>', VISIT_KINDS.join(' | '), 'visit')
    .option('--planned', 'it is yet to happen')
    .option('--attendee <name>', 'a member of staff who took part (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--minutes <n>', 'how long it took, in minutes')
    .option('--channel <channel>', `${VISIT_CHANNELS.join(' | ')} (default: in_person for visits and meetings, phone for calls, video for interviews)`)
    .option('--account <groupId>', 'the account (Segment group id) it was with')
    .option('--json', 'print the visit as JSON')
    .action(
      action(async (flags: { customer: string; at: string; notes?: string; kind: string; planned?: boolean; attendee: string[]; minutes?: string; channel?: string; account?: string; json?: boolean }) => {
        const { VisitBody, logVisit } = await import('../relationships/visits.service.js');
        const minutes = flags.minutes === undefined ? undefined : /^\d+$/.test(flags.minutes.trim()) ? Number(flags.minutes) : flags.minutes;
        const body = parseFlags(
          VisitBody,
          { customer: flags.customer, at: flags.at, notes: flags.notes, kind: flags.kind, status: flags.planned ? 'planned' : 'done', attendees: flags.attendee, durationMinutes: minutes, channel: flags.channel, account: flags.account },
          flagOf,
        );
        const { IngestWriter } = await import('../ingest/writer/writer.js');
        const c = await ctx();
        const v = await withStore(c, (store) => logVisit(store, new IngestWriter(store), body, 'cli', Date.now()));
        if (flags.json) return void c.out.write(`${JSON.stringify(v)}\n`);
        c.out.write(`Logged ${visitLine(v)}\n${recorded(v)}\n`);
      }),
    );
  visits
    .command('list')
    .description('visits, newest first (--order asc: soonest first)')
    .option('--customer <userId>', "only this customer's")
    .option('--status <status>', VISIT_STATUSES.join(' | '))
    .option('--from <date>', 'at or after, YYYY-MM-DD')
    .option('--to <date>', 'at or before, YYYY-MM-DD (the whole day)')
    .option('--order <order>', 'desc | asc', 'desc')
    .option('--limit <n>', 'at most this many (1–200)', '50')
    .option('--json', 'print the page as JSON')
    .action(
      action(async (flags: { customer?: string; status?: string; from?: string; to?: string; order: string; limit: string; json?: boolean }) => {
        const { VisitListParams, listVisits } = await import('../relationships/visits.service.js');
        const params = parseFlags(VisitListParams, { customer: flags.customer, status: flags.status, from: flags.from, to: flags.to, order: flags.order, limit: flags.limit }, flagOf);
        const c = await ctx();
        const page = await withStore(c, (store) => listVisits(store, params), READS_ONLY);
        if (flags.json) return void c.out.write(`${JSON.stringify(page)}\n`);
        if (page.items.length === 0) return void c.out.write('No visits.\n');
        c.out.write(`${page.items.map(visitLine).join('\n')}\n${page.nextCursor ? `(more: raise --limit or narrow with --from/--to)\n` : ''}`);
      }),
    );
  for (const [name, status] of [['done', 'done'], ['cancel', 'cancelled']] as const) {
    visits
      .command(`${name} <id>`)
      .description(status === 'done' ? 'mark a planned visit done: it is recorded now (--at: when it took place; --notes: what was said)' : 'mark a planned visit cancelled')
      .option('--at <date>', 'when it took place (default: the planned time)')
      .option('--notes <text>', 'what was said and seen')
      .option('--json', 'print the visit as JSON')
      .action(
        action(async (id: string, flags: { at?: string; notes?: string; json?: boolean }) => {
          const { VisitPatch, updateVisit } = await import('../relationships/visits.service.js');
          const { invalid } = await import('../core/errors.js');
          if (!/^\d{1,15}$/.test(id) || Number(id) < 1) throw invalid('id', `expected a visit id (a whole number), got "${oneLine(id, 40)}"`);
          const patch = parseFlags(VisitPatch, { status, at: flags.at, notes: flags.notes }, flagOf);
          const { IngestWriter } = await import('../ingest/writer/writer.js');
          const c = await ctx();
          const v = await withStore(c, (store) => updateVisit(store, new IngestWriter(store), Number(id), patch, Date.now()));
          if (flags.json) return void c.out.write(`${JSON.stringify(v)}\n`);
          c.out.write(`${visitLine(v)}\n${recorded(v)}\n`);
        }),
      );
  }
}
