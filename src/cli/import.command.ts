import path from 'node:path';
import type { Command } from 'commander';
import { action, withStore, type CliContext } from './context.js';
import type { ImportOptions, ImportProgress, ImportSummary } from '../ingest/files/import.js';
import { FEEDBACK_KINDS, IMPORT_KINDS } from '../ingest/records.js';

interface ImportFlags {
  kind: string;
  format?: string;
  source?: string;
  report?: string;
  kindDefault?: string;
  json?: boolean;
  mode?: string;
  map: string[];
  dateOrder?: string;
  clv: boolean;
  listen: boolean;
}

/** The exit code of an import that stored every valid row and rejected some (0 when none were). */
export const REJECTED_ROWS_EXIT = 9;

/** `rapport import <file> --kind …`: a thin shell around {@link importFile}. */
export function registerImport(program: Command, ctx: () => Promise<CliContext>): void {
  program
    .command('import <file>')
    .description('import customers, orders, events or feedback from a CSV or NDJSON file of any size')
    .requiredOption('--kind <kind>', IMPORT_KINDS.join(', '))
    .option('--format <format>', 'csv or ndjson (default: from the file extension)')
    .option('--source <name>', 'source stored with each record (default: segment for events, import otherwise)')
    .option('--report <file>', 'where rejected rows are written (default: <file>.rejected.csv)')
    .option('--kind-default <kind>', `feedback kind of rows that name none: ${FEEDBACK_KINDS.join(', ')} (default: ticket for a file with a ticket id column, else other)`)
    .option('--map <field=column>', 'the column that holds a field, over the accepted names (repeatable), e.g. --map order_id=InvoiceNo; --map email= when the file has no column for a field', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--date-order <order>', 'how dates like 1/2/2011 are read: dmy or mdy (default: the date column decides)')
    .option('--mode <mode>', 'auto, incremental or load (SQLite: one transaction, indexes built at the end; auto picks it for large event files)', 'auto')
    .option('--no-clv', 'do not recompute customer value after importing orders')
    .option('--no-listen', 'do not analyse feedback (signals, themes, tags) after importing it')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (file: string, flags: ImportFlags) => {
        const options: ImportOptions = { file, kind: flags.kind, format: flags.format, source: flags.source, report: flags.report, feedbackKind: flags.kindDefault, mode: flags.mode as ImportOptions['mode'], map: flags.map, dateOrder: flags.dateOrder };
        const { checkImport, importFile } = await import('../ingest/files/import.js');
        // Check the options and the file before the database is opened (or created).
        const plan = await checkImport(options);
        const c = await ctx();
        const bar = isTty(c.err) ? await progressBar(c.err) : undefined;
        let summary: ImportSummary;
        let value: { customers: number; seconds: number } | { error: string } | undefined;
        let listening: { items: number; themes: number; seconds: number } | { error: string } | undefined;
        try {
          summary = await withStore(
            c,
            async (store) => {
              const s = await importFile(store, { ...options, futureDays: c.config.futureDays, onProgress: bar?.update }, plan);
              bar?.stop();
              // New orders change customer value: recompute it now, as the server would.
              if (flags.clv && s.kind === 'orders' && s.inserted + s.updated > 0) {
                const { runClvAfterLoad } = await import('../value/value.job.js');
                value = await runClvAfterLoad(store, 'import');
              }
              if (flags.listen && s.kind === 'feedback' && s.inserted + s.updated > 0) {
                const { runListenAfterLoad } = await import('../listening/listen.job.js');
                listening = await runListenAfterLoad(store, 'import');
              }
              return s;
            },
            { checkpointer: true },
          );
        } finally {
          bar?.stop();
        }
        if (flags.json) c.out.write(`${JSON.stringify({ ...summary, ...(value ? { customerValue: value } : {}), ...(listening ? { listening } : {}) })}\n`);
        else {
          c.out.write(formatSummary(summary));
          if (value) c.out.write(`${(await import('../value/value.job.js')).afterLoadLine(value)}\n`);
          if (listening) c.out.write(`${(await import('../listening/listen.job.js')).listenLine(listening)}\n`);
        }
        // Everything valid is stored, but a script must be able to tell that rows were left out.
        if (summary.rejected > 0) {
          c.err.write(`${summary.rejected.toLocaleString('en-US')} ${summary.rejected === 1 ? 'row was' : 'rows were'} rejected and not stored${summary.report ? `: rows, fields and reasons in ${summary.report}` : ''}\n`);
          process.exitCode = REJECTED_ROWS_EXIT;
        }
      }),
    );
}

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** A progress bar on a terminal: rows read, rows/s, and an ETA from the bytes read so far. */
async function progressBar(stream: NodeJS.WritableStream): Promise<{ update: (p: ImportProgress) => void; stop: () => void }> {
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream, format: ' {bar} {percentage}% | {rows} rows | {speed} rows/s | {rejected} rejected | ETA {eta_formatted}', hideCursor: true, etaBuffer: 40, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let running = false;
  return {
    update(p) {
      const payload = { rows: p.rows.toLocaleString('en-US'), speed: Math.round(p.rows / Math.max((performance.now() - started) / 1000, 0.001)).toLocaleString('en-US'), rejected: p.rejected };
      if (!running) {
        bar.start(Math.max(p.totalBytes, 1), p.bytes, payload);
        running = true;
      } else {
        bar.update(p.bytes, payload);
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

function formatSummary(s: ImportSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    `Imported ${path.basename(s.file)} (${s.kind}, ${s.format}, source ${s.source}): ${n(s.rows)} rows in ${s.seconds.toFixed(1)} s, ${n(Math.round(s.rowsPerSecond))} rows/s`,
    `  inserted             ${n(s.inserted)}`,
    `  updated              ${n(s.updated)}`,
    `  skipped as duplicate ${n(s.duplicates)}`,
    `  rejected             ${n(s.rejected)}${s.report ? `  (rows, fields and reasons in ${s.report})` : ''}`,
    ...(s.mode === 'load' ? ['  (load mode: one transaction, interaction indexes built at the end)'] : []),
  ];
  return `${lines.join('\n')}\n`;
}
