import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import type { SearchPage } from '../search/search.service.js';
import { action, parseFlags, READS_ONLY, withStore, type CliContext } from './context.js';

interface SearchFlags {
  kind?: string;
  theme?: string;
  tag?: string;
  segment?: string;
  from?: string;
  to?: string;
  customer?: string;
  sort: string;
  limit: string;
  cursor?: string;
  reindex?: boolean;
  json?: boolean;
}

/** `rapport search`: full-text search from the terminal, and rebuilding the index. */
export function registerSearch(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('search')
    .description('search what customers said (feedback, customers, interactions with text): words, "phrases", prefix*, OR, -exclusion')
    .argument('[query...]', 'the search; quote it in the shell to keep "phrases" together')
    .option('--kind <kinds>', 'comma-separated: feedback, ticket, review, survey, interview, visit_note, other, customer, interaction')
    .option('--theme <id>', 'theme id')
    .option('--tag <id>', 'tag id')
    .option('--segment <id>', "customer's micro-segment")
    .option('--from <date>', 'on or after, YYYY-MM-DD')
    .option('--to <date>', 'on or before, YYYY-MM-DD')
    .option('--customer <userId>', "one customer's records")
    .option('--sort <order>', 'relevance or date', 'relevance')
    .option('--limit <n>', 'hits to show (1–100)', '20')
    .option('--cursor <cursor>', 'the next page (from a previous --json result)')
    .option('--reindex', 'rebuild the search index from every stored record (no query needed)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (words: string[], flags: SearchFlags) => {
        const c = await ctx();
        const tty = 'isTTY' in c.err && (c.err as NodeJS.WriteStream).isTTY === true;
        const progress = tty && !flags.json ? (done: number, total: number) => c.err.write(`\rIndexing: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records`) : undefined;
        const indexer = await import('../search/search.indexer.js');
        if (flags.reindex) {
          if (words.length > 0) throw invalid('--reindex', 'rebuilds the index; run the search separately');
          const r = await withStore(c, (store) => indexer.rebuildSearch(store, progress ? { onProgress: progress } : {}));
          if (progress) c.err.write('\n');
          c.out.write(flags.json ? `${JSON.stringify(r)}\n` : `Search index rebuilt: ${r.indexed.toLocaleString('en-US')} documents from ${r.scanned.toLocaleString('en-US')} records in ${(r.ms / 1000).toFixed(1)} s\n`);
          return;
        }
        const [{ SearchParams, search }, { databaseName }] = await Promise.all([import('../search/search.service.js'), import('../store/db.js')]);
        const params = parseFlags(
          SearchParams,
          {
            q: words.join(' '),
            kind: flags.kind,
            theme: flags.theme,
            tag: flags.tag,
            segment: flags.segment,
            from: flags.from,
            to: flags.to,
            customer: flags.customer,
            sort: flags.sort,
            limit: flags.limit,
            cursor: flags.cursor,
          },
          (field) => (field === 'q' ? 'query' : `--${field}`),
        );
        const page = await withStore(
          c,
          async (store) => {
            if (store.readOnly) {
              // Searching only reads: a database this user cannot write is searched as it was last indexed.
              c.err.write(`note: the database at ${databaseName(store.target)} is read-only: searching the index as it is, without indexing what was stored since\n`);
            } else {
              // The CLI has time: index everything new first, not just a small backlog.
              const r = await indexer.syncSearch(store, progress ? { onProgress: progress } : {});
              if (progress && r.scanned > 0) c.err.write('\n');
            }
            return search(store, params, { catchUp: false });
          },
          READS_ONLY,
        );
        c.out.write(flags.json ? `${JSON.stringify(page)}\n` : formatPage(page));
      }),
    );
}

const BOLD = (s: string, tty: boolean): string => (tty ? `\u001b[1m${s}\u001b[22m` : `[${s}]`);

export function formatPage(p: SearchPage, tty = process.stdout.isTTY === true): string {
  const lines: string[] = [];
  const total = `${p.totalExact ? '' : '~'}${p.total.toLocaleString('en-US')}`;
  lines.push(`${total} match${p.total === 1 ? '' : 'es'} for ${p.query}${p.ranking === 'newest' ? ' (ranked among the newest 1,000)' : ''}, ${p.tookMs} ms`);
  for (const h of p.items) {
    const who = h.customer ? `${h.customer.name ?? h.customer.userId ?? 'anonymous'}${h.customer.clv === null ? '' : `, CLV ${h.customer.clv.toFixed(0)}`}` : 'no customer';
    lines.push('');
    lines.push(`${h.at.slice(0, 10)}  ${h.title}  (${who})`);
    // Control characters from stored text are not echoed to the terminal.
    // eslint-disable-next-line no-control-regex
    const plain = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ');
    const text = h.snippet.map((s) => (s.match ? BOLD(plain(s.text), tty) : plain(s.text))).join('');
    lines.push(`  ${text.replace(/\s+/g, ' ').trim()}`);
  }
  if (p.nextCursor) lines.push('', `more: --cursor ${p.nextCursor}`);
  return `${lines.join('\n')}\n`;
}
