import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { ListenReport } from '../listening/listen.job.js';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';
import { int, money, pct } from './format.js';

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

/** The report of a listening run, for the terminal. */
export function formatListen(r: ListenReport): string {
  const lines = [`Listened to ${int(r.items)} feedback items: ${int(r.analysed)} analysed now, ${int(r.duplicates)} near-duplicates found.`];
  const t = r.themes;
  if (t.built) lines.push(`Themes discovered: ${t.count} (${int(t.assigned)} items in a theme${t.carriedNames ? `, ${t.carriedNames} names carried over` : ''}) in ${t.seconds.toFixed(1)} s.`);
  else if (t.count > 0) lines.push(`Themes kept: ${t.count}; ${int(t.assigned)} new items joined one; ${int(t.unassigned)} items fit no theme.`);
  if (t.pinned > 0) lines.push(`Items moved by hand: ${int(t.pinned)}, kept where they were put.`);
  if (t.followedPins > 0) lines.push(`${int(t.followedPins)} items went where a nearly identical item moved by hand went.`);
  for (const s of r.tagSets) {
    lines.push(
      `Tag set "${s.tagSet}" (${s.kinds.join(', ')}): ${int(s.examples)} examples${s.retrained ? `, model retrained${s.accuracy === null ? '' : ` (cross-validated accuracy ${pct(s.accuracy)})`}` : ''}; ${int(s.tagged)} items tagged, ${int(s.toReview)} to review.`,
    );
  }
  const se = r.sentiment;
  lines.push(`Sentiment read by ${se.method}${se.trained ? ' (learned in this run)' : ''}${se.reread > 0 ? `; ${int(se.reread)} stored items read again` : ''}.${!se.model && se.why ? ` No model yet: ${se.why}.` : ''}`);
  const langs = Object.entries(r.languages).sort((a, b) => b[1] - a[1]);
  if (langs.length > 1 || (langs[0] && langs[0][0] !== 'en')) lines.push(`Languages: ${langs.map(([l, n]) => `${l} ${int(n)}`).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

/** `rapport themes …`: listening over the stored feedback, and the themes it found. */
export function registerThemes(program: Command, ctx: () => Promise<CliContext>): void {
  const themes = program.command('themes').description('themes in the stored feedback: discover, list, rename, merge, split, move items');
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
        const board = await withStore(c, (store) => themeBoard(store, { sort: flags.sort as 'value', limit: 500 }), READS_ONLY);
        if (flags.json) {
          c.out.write(`${JSON.stringify(board)}\n`);
          return;
        }
        if (!board.available) {
          c.out.write('No themes yet: run `rapport themes run`.\n');
          return;
        }
        for (const t of board.themes) {
          c.out.write(`#${t.id} ${t.name}${t.general ? ' (general bucket)' : ''}  ·  ${int(t.size)} items, ${int(t.customers)} customers, value at stake ${money(t.valueAtStake)}, sentiment ${t.sentiment?.toFixed(2) ?? '–'}\n`);
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
    .command('move <id> <feedbackIds...>')
    .description("move feedback items of theme <id> to another theme (--to <theme id>) or out of every theme (--to none); runs keep them there and send new items nearly the same after them")
    .requiredOption('--to <theme>', 'the theme id to move them to, or "none"')
    .action(
      action(async (id: string, feedbackIds: string[], flags: { to: string }) => {
        const to = flags.to === 'none' ? null : parseId(flags.to, '--to');
        const items = feedbackIds.map((f) => {
          const n = Number(f);
          if (!Number.isInteger(n) || n < 1) throw invalid('feedbackIds', `expected feedback ids (whole numbers), got "${f}"`);
          return n;
        });
        const c = await ctx();
        const { moveMembers } = await import('../listening/themes.service.js');
        const r = await withStore(c, (store) => moveMembers(store, parseId(id, 'id'), items, to, 'cli', Date.now()));
        c.out.write(`Moved ${r.moved} ${r.moved === 1 ? 'item' : 'items'} from theme ${r.from} ${r.to === null ? 'out of every theme' : `to theme ${r.to}`}; later runs keep ${r.moved === 1 ? 'it' : 'them'} there.\n`);
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
}
