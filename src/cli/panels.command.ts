import fs from 'node:fs';
import type { Command } from 'commander';
import { csvLine } from '../core/csv.js';
import { invalid, isRapportError, RapportError } from '../core/errors.js';
import type { PanelReply } from '../relationships/panels.service.js';
import { int } from './format.js';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';

interface CreateFlags {
  name: string;
  size: string;
  purpose?: string;
  stage: string[];
  momentum: string[];
  segment: string[];
  clvMin?: string;
  clvMax?: string;
  seenWithinDays?: string;
  trait: string[];
  account?: string;
  seed?: string;
  category?: string;
  product?: string;
  launched?: string;
  json?: boolean;
}

const collect = (v: string, all: string[]): string[] => [...all, v];

/** The flag a field of the API's body comes from. */
const FLAGS: [string, string][] = [
  ['filters.stages', '--stage'],
  ['filters.momentum', '--momentum'],
  ['filters.segments', '--segment'],
  ['filters.clvMin', '--clv-min'],
  ['filters.clvMax', '--clv-max'],
  ['filters.seenWithinDays', '--seen-within-days'],
  ['filters.traits', '--trait'],
  ['filters.account', '--account'],
  ['underTest', '--category/--product'],
  ['launchedAt', '--launched'],
  ['name', '--name'],
  ['size', '--size'],
  ['seed', '--seed'],
  ['purpose', '--purpose'],
];
const flagOf = (field: string): string => FLAGS.find(([f]) => field === f || field.startsWith(`${f}.`))?.[1] ?? field;

/** A number flag: a clear error naming it for anything else. */
function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n)) throw invalid(flag, `expected a number, got "${v}"`);
  return n;
}

function traitOf(v: string): { key: string; value: string } {
  const at = v.indexOf('=');
  if (at <= 0) throw invalid('--trait', `expected key=value, got "${v}"`);
  return { key: v.slice(0, at).trim(), value: v.slice(at + 1).trim() };
}

function panelLines(p: PanelReply): string[] {
  const lines = [`Panel ${p.id}: ${p.name} (${p.status}, ${int(p.members.total)} members of ${int(p.size)} asked, seed ${p.seed})`];
  if (p.purpose) lines.push(`  ${p.purpose}`);
  if (p.underTest) lines.push(`  Under test: ${p.underTest.kind} ${p.underTest.value}${p.launchedAt ? `, launched ${p.launchedAt.slice(0, 10)}` : ''}`);
  lines.push(`  Members: ${Object.entries(p.members.byStatus).map(([s, n]) => `${n} ${s}`).join(', ')}`);
  lines.push(`  Eligible ${int(p.selection.eligible)}, selected ${int(p.selection.selected)}:`);
  const width = Math.min(60, Math.max(8, ...p.selection.segments.map((s) => s.label.length)));
  lines.push(`    ${'segment'.padEnd(width)}  eligible  asked  selected`);
  for (const s of p.selection.segments) lines.push(`    ${s.label.slice(0, width).padEnd(width)}  ${int(s.eligible).padStart(8)}  ${String(s.asked).padStart(5)}  ${String(s.selected).padStart(8)}`);
  for (const n of p.selection.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** `rapport panels …`: co-creation panels of reference customers. */
export function registerPanels(program: Command, ctx: () => Promise<CliContext>): void {
  const panels = program.command('panels').description('co-creation panels: reference customers who try new lines before they go wide');
  panels
    .command('create')
    .description('build a panel from filters, balanced across micro-segments and repeatable for its seed (saved as a draft)')
    .requiredOption('--name <name>', 'the panel’s name')
    .requiredOption('--size <n>', 'seats asked for')
    .option('--purpose <text>', 'what the panel is for')
    .option('--stage <key>', 'LOVE stage (introduction, information, commitment, affinity, co-creation); repeatable', collect, [])
    .option('--momentum <m>', 'warming, steady or cooling; repeatable', collect, [])
    .option('--segment <id>', 'micro-segment id of the latest customer-value run; repeatable', collect, [])
    .option('--clv-min <x>', 'CLV at least this')
    .option('--clv-max <y>', 'CLV at most this')
    .option('--seen-within-days <n>', 'last seen within this many days')
    .option('--trait <key=value>', 'a customer trait (case-insensitive); repeatable', collect, [])
    .option('--account <groupId>', 'members of this account (Segment group id)')
    .option('--seed <n>', 'seed of the draw (default: from the clock; printed)')
    .option('--category <name>', 'the category under test')
    .option('--product <id>', 'the product under test')
    .option('--launched <date>', 'when what is under test went wide, YYYY-MM-DD')
    .option('--json', 'print the panel as JSON')
    .action(
      action(async (flags: CreateFlags) => {
        const { PanelCreate, createPanel } = await import('../relationships/panels.service.js');
        const c = await ctx();
        if (flags.category !== undefined && flags.product !== undefined) throw invalid('--product', 'give --category or --product, not both');
        const subject = flags.category !== undefined ? { kind: 'category', value: flags.category } : flags.product !== undefined ? { kind: 'product', value: flags.product } : null;
        const filters = {
          ...(flags.stage.length > 0 ? { stages: flags.stage } : {}),
          ...(flags.momentum.length > 0 ? { momentum: flags.momentum } : {}),
          ...(flags.segment.length > 0 ? { segments: flags.segment.map((s) => num('--segment', s)) } : {}),
          ...(flags.clvMin !== undefined ? { clvMin: num('--clv-min', flags.clvMin) } : {}),
          ...(flags.clvMax !== undefined ? { clvMax: num('--clv-max', flags.clvMax) } : {}),
          ...(flags.seenWithinDays !== undefined ? { seenWithinDays: num('--seen-within-days', flags.seenWithinDays) } : {}),
          ...(flags.trait.length > 0 ? { traits: flags.trait.map(traitOf) } : {}),
          ...(flags.account !== undefined ? { account: flags.account } : {}),
        };
        const body = parseFlags(
          PanelCreate,
          { name: flags.name, size: num('--size', flags.size), purpose: flags.purpose, filters, seed: num('--seed', flags.seed), underTest: subject, launchedAt: flags.launched ?? null },
          flagOf,
        );
        const p = await withStore(c, async (store) => {
          try {
            return await createPanel(store, body, 'cli');
          } catch (e) {
            // The service names the API's fields: say which flag instead.
            if (isRapportError(e) && e.code === 'invalid_input' && e.issues[0]) throw invalid(flagOf(e.issues[0].field), e.issues[0].message);
            throw e;
          }
        });
        if (flags.json) return void c.out.write(`${JSON.stringify(p)}\n`);
        c.out.write(`${panelLines(p).join('\n')}\n`);
      }),
    );
  panels
    .command('list')
    .description('the panels, newest first')
    .option('--json', 'print them as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const { listPanels } = await import('../relationships/panels.service.js');
        const c = await ctx();
        const r = await withStore(c, (store) => listPanels(store), READS_ONLY);
        if (flags.json) return void c.out.write(`${JSON.stringify(r)}\n`);
        if (r.items.length === 0) return void c.out.write('No panels yet: rapport panels create --name <name> --size <n> [filters]\n');
        const lines = r.items.map((p) => `${String(p.id).padStart(4)}  ${p.status.padEnd(6)}  ${int(p.members.total).padStart(6)} members  ${p.name}`);
        c.out.write(`${lines.join('\n')}\n`);
      }),
    );
  panels
    .command('show <id>')
    .description('a panel: what was drawn per segment, its members per status, what they said since it started, and the launch comparison')
    .option('--json', 'print it as JSON')
    .action(
      action(async (id: string, flags: { json?: boolean }) => {
        const service = await import('../relationships/panels.service.js');
        const c = await ctx();
        const panelId = panelIdOf(id);
        const r = await withStore(
          c,
          async (store) => {
            const panel = await service.getPanel(store, panelId);
            const [feedback, launch] = await Promise.all([service.panelFeedback(store, panelId, {}), service.launchComparison(store, panelId, {})]);
            return { panel, feedback, launch };
          },
          READS_ONLY,
        );
        if (flags.json) return void c.out.write(`${JSON.stringify(r)}\n`);
        const lines = panelLines(r.panel);
        const f = r.feedback;
        lines.push(`What they said since ${f.since.slice(0, 10)}: ${int(f.items)} items from ${int(f.customers)} of ${int(f.members)} members; sentiment ${f.sentiment.positive} positive, ${f.sentiment.neutral} neutral, ${f.sentiment.negative} negative${f.sentiment.mean === null ? '' : ` (mean ${f.sentiment.mean.toFixed(2)})`}`);
        for (const t of f.themes.slice(0, 5)) lines.push(`    ${String(t.items).padStart(4)}  ${t.name}`);
        const l = r.launch;
        lines.push(l.available ? `Launch: ${l.summary}` : `Launch: ${l.reason}`);
        c.out.write(`${lines.join('\n')}\n`);
      }),
    );
  panels
    .command('export <id>')
    .description("a panel's members as CSV (userId, email, name, segment, stage, CLV, status); formulas neutralised")
    .option('--out <file>', 'write to this file (default: standard output)')
    .action(
      action(async (id: string, flags: { out?: string }) => {
        const { membersCsv, MEMBERS_CSV_HEADER } = await import('../relationships/panels.service.js');
        const c = await ctx();
        const panelId = panelIdOf(id);
        const written = await withStore(
          c,
          async (store) => {
            const e = await membersCsv(store, panelId);
            const chunks = [csvLine(MEMBERS_CSV_HEADER)];
            let rows = 0;
            for await (const page of e.rows) {
              rows += page.length;
              chunks.push(page.map(csvLine).join(''));
            }
            if (flags.out === undefined) c.out.write(chunks.join(''));
            else {
              try {
                fs.writeFileSync(flags.out, chunks.join(''));
              } catch (err) {
                throw new RapportError('unreadable_file', `cannot write ${flags.out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
              }
            }
            return rows;
          },
          READS_ONLY,
        );
        if (flags.out !== undefined) c.err.write(`${int(written)} members written to ${flags.out}\n`);
      }),
    );
}

function panelIdOf(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw invalid('id', `expected a panel id (a whole number), got "${v}"`);
  return Number(v);
}
