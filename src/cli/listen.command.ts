import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { ListenReport } from '../listening/listen.job.js';
import type { DefectLedger } from '../listening/defects.js';
import { action, withStore, type CliContext } from './context.js';

const int = (v: number): string => v.toLocaleString('en-US');
const money = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);

function parseK(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const k = Number(v);
  if (!Number.isInteger(k) || k < 2 || k > 500) throw invalid('--k', `expected a whole number from 2 to 500 or "auto", got "${v}"`);
  return k;
}

function parseId(v: string, field: string): number {
  const id = Number(v);
  if (!Number.isInteger(id) || id < 1) throw invalid(field, `expected a theme id (a whole number), got "${v}"`);
  return id;
}

export function formatListen(r: ListenReport): string {
  const lines = [`Listened to ${int(r.items)} feedback items: ${int(r.analysed)} analysed now, ${int(r.duplicates)} near-duplicates found.`];
  const t = r.themes;
  if (t.built) lines.push(`Themes discovered: ${t.count} (${int(t.assigned)} items in a theme${t.carriedNames ? `, ${t.carriedNames} names carried over` : ''}) in ${t.seconds.toFixed(1)} s.`);
  else if (t.count > 0) lines.push(`Themes kept: ${t.count}; ${int(t.assigned)} new items joined one; ${int(t.unassigned)} items fit no theme.`);
  for (const s of r.tagSets) {
    lines.push(
      `Tag set "${s.tagSet}" (${s.kinds.join(', ')}): ${int(s.examples)} examples${s.retrained ? `, model retrained${s.accuracy === null ? '' : ` (cross-validated accuracy ${pct(s.accuracy)})`}` : ''}; ${int(s.tagged)} items tagged, ${int(s.toReview)} to review.`,
    );
  }
  const langs = Object.entries(r.languages).sort((a, b) => b[1] - a[1]);
  if (langs.length > 1 || (langs[0] && langs[0][0] !== 'en')) lines.push(`Languages: ${langs.map(([l, n]) => `${l} ${int(n)}`).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

export function formatLedger(l: DefectLedger): string {
  const lines = [
    `${int(l.tickets)} support contacts. Baseline churn ${pct(l.baseline.rate.estimate)} (${int(l.baseline.churned)} of ${int(l.baseline.customers)} valued customers).`,
    '',
    'type · cause                         contacts  customers  median h   churn [95%]              vs baseline   CLV affected   value lost',
  ];
  for (const r of l.byTypeCause) {
    const c = r.churn;
    lines.push(
      `${r.label.padEnd(36)} ${String(r.contacts).padStart(8)}  ${String(r.customersAffected).padStart(9)}  ${String(r.resolution.medianHours ?? '–').padStart(8)}   ${`${pct(c.rate.estimate)} [${pct(c.rate.low)}–${pct(c.rate.high)}]`.padEnd(24)} ${c.signal.padEnd(11)}   ${money(c.clvSum).padStart(12)}   ${money(c.valueLost).padStart(10)}`,
    );
  }
  if (l.featuresVsFixes.length > 0) {
    lines.push('', 'month     fixes  requests  fix share');
    for (const m of l.featuresVsFixes.slice(-12)) lines.push(`${m.month}   ${String(m.fixes).padStart(5)}  ${String(m.requests).padStart(8)}  ${pct(m.fixShare).padStart(9)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `rapport themes …` (stored feedback), `rapport defects`, `rapport tags …`. */
export function registerListen(program: Command, ctx: () => Promise<CliContext>): void {
  const themes = program.command('themes').description('themes in the stored feedback: discover, list, rename, merge');
  themes
    .command('run')
    .description('analyse stored feedback: sentiment, intent, language, near-duplicates, themes and tags (new items join existing themes)')
    .option('--rebuild', 'discover themes afresh from all feedback (renamed themes keep their names where their items stay together)')
    .option('--k <n>', 'themes to discover on a rebuild or first run: a number or "auto"', 'auto')
    .option('--json', 'print the run report as JSON')
    .action(
      action(async (flags: { rebuild?: boolean; k?: string; json?: boolean }) => {
        const k = parseK(flags.k);
        const c = await ctx();
        const { runListen } = await import('../listening/listen.job.js');
        const { runId, report } = await withStore(c, (store) => runListen(store, { trigger: 'cli', rebuild: flags.rebuild === true, ...(k !== undefined ? { k } : {}) }));
        c.out.write(flags.json ? `${JSON.stringify({ runId, ...report })}\n` : formatListen(report));
        for (const w of report.warnings) c.err.write(`warning: ${w}\n`);
      }),
    );
  themes
    .command('list')
    .description('the themes board: themes by value at stake, with size, customers, sentiment and key phrases')
    .option('--sort <by>', 'value, size or recent', 'value')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { sort: string; json?: boolean }) => {
        if (!['value', 'size', 'recent'].includes(flags.sort)) throw invalid('--sort', `expected value, size or recent, got "${flags.sort}"`);
        const c = await ctx();
        const { themeBoard } = await import('../listening/themes.service.js');
        const board = await withStore(c, (store) => themeBoard(store, { sort: flags.sort as 'value', limit: 500 }));
        if (flags.json) {
          c.out.write(`${JSON.stringify(board)}\n`);
          return;
        }
        if (!board.available) {
          c.out.write('No themes yet: run `rapport themes run`.\n');
          return;
        }
        for (const t of board.themes) {
          c.out.write(`#${t.id} ${t.name}  ·  ${int(t.size)} items, ${int(t.customers)} customers, value at stake ${money(t.valueAtStake)}, sentiment ${t.sentiment?.toFixed(2) ?? '–'}\n`);
          c.out.write(`    ${t.keyPhrases.slice(0, 6).join(', ')}\n`);
          if (t.quotes[0]) c.out.write(`    “${t.quotes[0].text.slice(0, 140)}”\n`);
        }
      }),
    );
  themes
    .command('rename <id> <name...>')
    .description("rename a theme (kept across runs); use '-' to return to the generated label")
    .action(
      action(async (id: string, name: string[]) => {
        const c = await ctx();
        const { renameTheme } = await import('../listening/themes.service.js');
        const value = name.join(' ').trim();
        await withStore(c, (store) => renameTheme(store, parseId(id, 'id'), value === '-' ? null : value, Date.now()));
        c.out.write(`Theme ${id} ${value === '-' ? 'uses its generated label again' : `is now "${value}"`}.\n`);
      }),
    );
  themes
    .command('merge <into> <ids...>')
    .description('merge themes into the first one')
    .action(
      action(async (into: string, ids: string[]) => {
        const c = await ctx();
        const { mergeThemes } = await import('../listening/themes.service.js');
        await withStore(c, (store) => mergeThemes(store, parseId(into, 'into'), ids.map((i) => parseId(i, 'ids')), undefined, Date.now()));
        c.out.write(`Merged ${ids.join(', ')} into ${into}.\n`);
      }),
    );

  themes
    .command('split <id>')
    .description('split a theme in parts by clustering its items again')
    .option('--k <n>', 'parts (2–8)', '2')
    .action(
      action(async (id: string, flags: { k: string }) => {
        const k = Number(flags.k);
        if (!Number.isInteger(k) || k < 2 || k > 8) throw invalid('--k', `expected a whole number from 2 to 8, got "${flags.k}"`);
        const c = await ctx();
        const { splitStoredTheme } = await import('../listening/listen.job.js');
        const { parts } = await withStore(c, (store) => splitStoredTheme(store, parseId(id, 'id'), { k }));
        c.out.write(`Theme ${id} split into ${parts.map((p) => `#${p}`).join(', ')}.\n`);
      }),
    );

  program
    .command('defects')
    .description('the defect ledger: support contacts by type × cause, time to resolution, churn among those affected against the baseline, value lost; features vs fixes')
    .option('--from <date>', 'first day of contacts, YYYY-MM-DD')
    .option('--to <date>', 'last day of contacts, YYYY-MM-DD')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { from?: string; to?: string; json?: boolean }) => {
        const { LedgerParams, defectLedger } = await import('../listening/defects.js');
        const parsed = LedgerParams.safeParse({ from: flags.from, to: flags.to });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw invalid(`--${String(issue?.path[0] ?? 'from')}`, `expected a date YYYY-MM-DD (${issue?.message ?? 'invalid'})`);
        }
        const c = await ctx();
        const ledger = await withStore(c, (store) => defectLedger(store, parsed.data));
        c.out.write(flags.json ? `${JSON.stringify(ledger)}\n` : formatLedger(ledger));
      }),
    );

  const tags = program.command('tags').description("tag sets: the team's tags, examples and the model's suggestions");
  tags
    .command('list')
    .description('tag sets with their tags, examples, suggestions and the review backlog')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const c = await ctx();
        const { tagSets } = await import('../listening/tags.service.js');
        const sets = await withStore(c, (store) => tagSets(store));
        if (flags.json) {
          c.out.write(`${JSON.stringify({ tagSets: sets })}\n`);
          return;
        }
        if (sets.length === 0) c.out.write('No tags yet: `rapport tags label <feedback-id> <set> <tag>` tags an item, and the model learns from such examples.\n');
        for (const s of sets) {
          c.out.write(`${s.tagSet}: ${int(s.examples)} examples, ${int(s.suggested)} suggested, ${int(s.toReview)} to review${s.model ? `; model ${s.model.accuracy === null ? '' : `${pct(s.model.accuracy)} accurate, `}trained ${s.model.trainedAt}${s.model.stale ? ' (examples changed since)' : ''}` : ''}\n`);
          for (const t of s.tags) c.out.write(`    ${t.name.padEnd(30)} ${String(t.examples).padStart(6)} examples  ${String(t.suggested).padStart(7)} suggested\n`);
        }
      }),
    );
  tags
    .command('label <feedbackId> <tagSet> <tag...>')
    .description("tag an item by hand (an example for the model; '-' removes the tag)")
    .action(
      action(async (feedbackId: string, tagSet: string, tag: string[]) => {
        const id = Number(feedbackId);
        if (!Number.isInteger(id) || id < 1) throw invalid('feedbackId', `expected a feedback id, got "${feedbackId}"`);
        const c = await ctx();
        const { labelItem, tagSetName } = await import('../listening/tags.service.js');
        const name = tag.join(' ').trim();
        await withStore(c, (store) => labelItem(store, id, tagSetName(tagSet, 'tagSet'), name === '-' ? null : name, 'cli', Date.now()));
        c.out.write(name === '-' ? `Removed the "${tagSet}" tag of item ${id}.\n` : `Item ${id} tagged "${name}" in "${tagSet}".\n`);
      }),
    );
}
