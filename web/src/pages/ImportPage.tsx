import { useEffect, useId, useState } from 'react';
import { api, type ImportParams } from '../api/client.js';
import type { DateOrder, ImportKind, ImportPreview, ImportResult, PreviewField, PreviewRow } from '../api/types.js';
import { Badge, Empty, ErrorPanel, InfoTip, Loading, Panel, Tile } from '../components/ui.js';
import { downloadCsv } from '../lib/download.js';
import { formatInt } from '../lib/format.js';
import { usePageTitle } from '../lib/title.js';

const KINDS = {
  orders: 'Orders (one row per order line, or per order)',
  customers: 'Customers (one row per customer)',
  events: 'Events (one row per event, or Segment messages in NDJSON)',
  feedback: 'Feedback (tickets, reviews, survey answers, notes)',
} as const satisfies Record<ImportKind, string>;

const NOT_IN_FILE = '';

/** `updating`: the shown preview is of the previous choice; a new one is on its way. */
type Preview = { status: 'idle' } | { status: 'loading' } | { status: 'ready'; data: ImportPreview; updating: boolean } | { status: 'error'; error: Error };
type Run = { status: 'idle' } | { status: 'running' } | { status: 'done'; data: ImportResult } | { status: 'error'; error: Error };

/** One sample value as text: empty cells as a dash. Always rendered as text, never as markup. */
const cell = (v: string | number | null | undefined): string => (v === null || v === undefined ? '—' : String(v));

function FieldRow({ field, columns, value, sample, onChange }: { field: PreviewField; columns: readonly string[]; value: string | null; sample: string | number | null | undefined; onChange: (column: string | null) => void }) {
  const id = useId();
  const need = field.required ? 'required' : field.oneOf.length > 0 ? `required: ${field.oneOf.join(' or ')}` : null;
  return (
    <tr data-testid={`field-${field.field}`}>
      <th scope="row">
        <label htmlFor={id} className="import-field-name" title={`Columns recognised: ${field.accepts.join(', ')}`}>
          {field.name}
        </label>
        {need && (
          <Badge tone={value === null ? 'danger' : 'neutral'} title={field.required ? 'the import needs a column for this field' : `the import needs a column for one of ${field.oneOf.join(', ')}`}>
            {need}
          </Badge>
        )}
        {field.notes && <div className="muted import-field-notes">{field.notes}</div>}
      </th>
      <td>
        <div className="field">
          <select id={id} value={value ?? NOT_IN_FILE} onChange={(e) => onChange(e.target.value === NOT_IN_FILE ? null : e.target.value)}>
            <option value={NOT_IN_FILE}>not in this file</option>
            {columns.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        {field.from === 'guess' && <div className="muted import-field-notes">guessed from the column name</div>}
      </td>
      <td className="import-sample">
        <span className="import-sample-label muted">First row: </span>
        {value === null ? <span className="muted">—</span> : cell(sample)}
      </td>
    </tr>
  );
}

function SampleRows({ preview, stale }: { preview: ImportPreview; stale: boolean }) {
  const mapped = preview.fields.filter((f) => f.column !== null);
  if (preview.rows.length === 0) return <Empty title="No data rows">The file has a header and nothing after it.</Empty>;
  return (
    <div className="table-scroll">
      <table className={`table table-compact import-rows${stale ? ' is-stale' : ''}`} data-testid="import-rows" aria-busy={stale}>
        <thead>
          <tr>
            <th scope="col" className="num">
              Row
            </th>
            {mapped.map((f) => (
              <th key={f.field} scope="col">
                {f.name}
              </th>
            ))}
            <th scope="col">Problems</th>
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((r: PreviewRow) => (
            <tr key={r.row} className={r.errors.length > 0 ? 'import-row-bad' : undefined} data-testid="import-row">
              <td className="num">{r.row}</td>
              {mapped.map((f) => (
                <td key={f.field} className="nowrap">
                  {cell(r.values[f.field])}
                </td>
              ))}
              <td>
                {r.errors.length === 0 ? (
                  r.note ? (
                    <span className="muted">{r.note}</span>
                  ) : (
                    <span className="muted">none</span>
                  )
                ) : (
                  <ul className="import-errors">
                    {r.errors.map((e, i) => (
                      <li key={i}>
                        <strong>{e.column}</strong>: {e.message}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DateChoice({ preview, dateOrder, onChange }: { preview: ImportPreview; dateOrder: DateOrder | null; onChange: (o: DateOrder | null) => void }) {
  const name = useId();
  const d = preview.dates[0];
  if (!d) return null;
  if (d.state === 'none' && dateOrder === null) return null;
  // "As the column says" only when it says something: otherwise one of the two must be chosen.
  const options: [DateOrder | null, string][] = [
    ...(d.found ? ([[null, `As the column says (${d.found === 'dmy' ? 'day first' : 'month first'})`]] as [null, string][]) : []),
    ['dmy', 'Day first: 12/9/2011 is 12 September 2011'],
    ['mdy', 'Month first: 12/9/2011 is 9 December 2011'],
  ];
  return (
    <fieldset className="import-dates" data-testid="import-dates">
      <legend>
        Dates in {d.column}
        <InfoTip>A date such as 12/9/2011 is day first in most of the world and month first in the US; the import reads the whole column one way. A date with a day above 12 (13/9/2011 or 9/13/2011) tells which.</InfoTip>
      </legend>
      <p className={d.order === null ? 'notice notice-warn' : 'muted'} data-testid="import-date-message">
        {d.message}
      </p>
      {options.map(([o, label]) => (
        <label key={o ?? 'auto'} className="import-radio">
          <input type="radio" name={name} checked={dateOrder === o} onChange={() => onChange(o)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

function Result({ result }: { result: ImportResult }) {
  return (
    <Panel title="Imported" className="import-result">
      <div className="tiles" data-testid="import-result">
        <Tile
          label="Rows stored"
          value={<span data-testid="import-stored">{formatInt(result.stored)}</span>}
          how={`Rows read (${formatInt(result.rows)}) minus rows rejected. They held ${formatInt(result.inserted)} new records, ${formatInt(result.updated)} that updated what was stored and ${formatInt(result.duplicates)} already stored by an earlier import of the same records (an order of three lines is one record).`}
          sub={`of ${formatInt(result.rows)} rows read, in ${result.seconds.toFixed(1)} s`}
        />
        <Tile
          label="Rows rejected"
          value={<span data-testid="import-rejected">{formatInt(result.rejected)}</span>}
          how="Nothing of a rejected row was stored; an order with a rejected line is rejected whole. Fix the rows and import the file again: rows already stored are recognised and skipped."
          sub={result.rejected > 0 ? 'see the rows below' : 'none'}
        />
      </div>
      {(result.kind === 'orders' || result.kind === 'feedback') && result.inserted + result.updated > 0 && (
        <p className="muted" data-testid="import-next">
          {result.kind === 'orders' ? 'Customer value' : 'Themes, tags and signals'} follow on the server’s schedule: 10 minutes after new data stops arriving (unless RAPPORT_CLV_EVERY_HOURS is 0).
        </p>
      )}
      {result.rejects.length > 0 && (
        <>
          <div className="table-scroll">
            <table className="table table-compact" data-testid="import-rejects">
              <caption className="muted">
                {result.rejected > result.rejects.length ? `The first ${formatInt(result.rejects.length)} of ${formatInt(result.rejected)} rejected rows` : 'Rejected rows'}
              </caption>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Row
                  </th>
                  <th scope="col">Field</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {result.rejects.map((r, i) => (
                  <tr key={i}>
                    <td className="num">{r.row}</td>
                    <td>{r.field}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {result.rejectReport && (
            <button type="button" className="button" data-testid="import-report" onClick={() => downloadCsv('rejected-rows.csv', result.rejectReport!)}>
              Download the reject report (CSV{result.rejectReportComplete ? '' : ', first 5 MB'})
            </button>
          )}
        </>
      )}
    </Panel>
  );
}

/** Import a file: choose the kind and the file, check and fix how its columns map, then import. */
export function ImportPage() {
  usePageTitle('Import');
  const kindId = useId();
  const fileId = useId();
  const [kind, setKind] = useState<ImportKind>('orders');
  const [file, setFile] = useState<File | null>(null);
  /** The mapping chosen; empty until a dropdown changes (then every field is sent). */
  const [map, setMap] = useState<Record<string, string | null>>({});
  const [dateOrder, setDateOrder] = useState<DateOrder | null>(null);
  const [preview, setPreview] = useState<Preview>({ status: 'idle' });
  const [run, setRun] = useState<Run>({ status: 'idle' });
  const [attempt, setAttempt] = useState(0);

  const params = (f: File): ImportParams => ({ kind, filename: f.name, map, dateOrder });
  const key = JSON.stringify([kind, file?.name, file?.size, file?.lastModified, map, dateOrder, attempt]);
  useEffect(() => {
    if (!file) {
      setPreview({ status: 'idle' });
      return;
    }
    const ctl = new AbortController();
    setPreview((p) => (p.status === 'ready' ? { ...p, updating: true } : { status: 'loading' }));
    api.importPreview(file, params(file), ctl.signal).then(
      (data) => setPreview({ status: 'ready', data, updating: false }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setPreview({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
  }, [key]);

  const reset = () => {
    setMap({});
    setDateOrder(null);
    setRun({ status: 'idle' });
  };
  const p = preview.status === 'ready' ? preview.data : null;
  const choose = (field: string, column: string | null) => {
    if (!p) return;
    const all = Object.fromEntries(p.fields.map((f) => [f.field, f.column]));
    setMap({ ...all, ...map, [field]: column });
    setRun({ status: 'idle' });
  };
  const blocked = !p || (preview.status === 'ready' && preview.updating) || p.missing.length > 0 || p.dates.some((d) => d.order === null && dateOrder === null && (d.state === 'undecidable' || d.state === 'mixed'));
  const start = () => {
    if (!file || blocked) return;
    setRun({ status: 'running' });
    api.runImport(file, params(file)).then(
      (data) => setRun({ status: 'done', data }),
      (error: unknown) => setRun({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
  };

  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Import</h1>
          <p className="lede">Bring in an export from a shop, a help desk or a survey tool. Check how its columns map to Rapport’s fields and how its first rows read; nothing is stored until you import.</p>
        </div>
      </header>

      <div className="toolbar import-toolbar">
        <div className="field field-inline">
          <label htmlFor={kindId}>What the file holds</label>
          <select
            id={kindId}
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as ImportKind);
              reset();
            }}
          >
            {Object.entries(KINDS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor={fileId}>File (CSV or NDJSON)</label>
          <input
            id={fileId}
            type="file"
            accept=".csv,.ndjson,.jsonl,.json,text/csv"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              reset();
            }}
          />
        </div>
      </div>

      {preview.status === 'idle' && (
        <div className="panel">
          <Empty title="Choose a file">CSV with a header row, or NDJSON (one JSON object per line). Columns are matched to fields by their names; you can change every match before importing.</Empty>
        </div>
      )}
      {preview.status === 'loading' && (
        <div className="panel">
          <Loading label="Reading the file…" />
        </div>
      )}
      {preview.status === 'error' && (
        <div className="panel">
          <ErrorPanel error={preview.error} onRetry={() => setAttempt((n) => n + 1)} />
        </div>
      )}
      {p && p.segmentMessages && (
        <Panel title="Segment messages">
          <p className="muted">Events in NDJSON are read as Segment messages (track, page, identify…), as the tracking API reads them: there are no columns to map.</p>
        </Panel>
      )}
      {p && !p.segmentMessages && (
        <Panel title="Columns and fields" how="Each field Rapport stores, the column of the file it is read from, and its value in the first row as the import reads it (dates in ISO 8601, UTC). Columns no field reads are kept with each record as traits or properties.">
          {p.missing.length > 0 && (
            <p className="notice notice-warn" role="alert" data-testid="import-missing">
              {p.missing.map((m) => m.message).join('; ')}: choose a column below.
            </p>
          )}
          <div className="table-scroll">
            <table className={`table table-compact import-fields${preview.status === 'ready' && preview.updating ? ' is-stale' : ''}`} data-testid="import-fields" aria-busy={preview.status === 'ready' && preview.updating}>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Column in the file</th>
                  <th scope="col">First row</th>
                </tr>
              </thead>
              <tbody>
                {p.fields.map((f) => (
                  <FieldRow key={f.field} field={f} columns={p.header} value={f.field in map ? (map[f.field] ?? null) : f.column} sample={p.rows[0]?.values[f.field]} onChange={(c) => choose(f.field, c)} />
                ))}
              </tbody>
            </table>
          </div>
          {p.unused.length > 0 && (
            <p className="muted" data-testid="import-unused">
              Kept as {kind === 'customers' ? 'traits' : 'properties'}: {p.unused.join(', ')}
            </p>
          )}
          <DateChoice
            preview={p}
            dateOrder={dateOrder}
            onChange={(o) => {
              setDateOrder(o);
              setRun({ status: 'idle' });
            }}
          />
        </Panel>
      )}
      {p && (
        <Panel title={`First ${formatInt(p.rows.length)} rows as read`} how="Each row as the import reads it, with what would reject it. Rows are numbered as in the reject report: 1 is the first row after the header (for NDJSON, the line).">
          <SampleRows preview={p} stale={preview.status === 'ready' && preview.updating} />
          <div className="import-actions">
            <button type="button" className="button button-primary" disabled={blocked || run.status === 'running'} onClick={start} data-testid="import-start">
              {run.status === 'running' ? 'Importing…' : 'Import'}
            </button>
            {preview.status === 'ready' && preview.updating ? (
              <span className="muted" role="status">
                Reading the file with your choice…
              </span>
            ) : (
              blocked && <span className="muted">Choose the missing columns {p.dates.some((d) => d.order === null) ? 'and the date order ' : ''}first.</span>
            )}
          </div>
        </Panel>
      )}
      {run.status === 'error' && (
        <div className="panel">
          <ErrorPanel error={run.error} />
        </div>
      )}
      {run.status === 'done' && <Result result={run.data} />}
    </div>
  );
}
