import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client.js';
import { VISIT_KINDS, type Visit } from '../../api/types.js';
import { Empty, ErrorPanel, Loading, Panel } from '../../components/ui.js';
import { capitalize, formatDateTime } from '../../lib/format.js';
import { useApi } from '../../lib/hooks.js';
import { VisitList } from '../relationships/VisitList.js';

/** The fields of the form, as the API names them in its errors. */
type Field = 'kind' | 'at' | 'status' | 'notes' | 'attendees' | 'durationMinutes';
const FIELDS: readonly Field[] = ['kind', 'at', 'status', 'notes', 'attendees', 'durationMinutes'];

/** Now, as a `datetime-local` input shows it (the browser's own time zone, to the minute). */
function localNow(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The errors of a refused request by field (`attendees.2` is the attendees field), and what names no field of the form. */
function errorsOf(e: unknown): { fields: Partial<Record<Field, string>>; general: string | null } {
  if (!(e instanceof ApiError)) return { fields: {}, general: e instanceof Error ? e.message : String(e) };
  const fields: Partial<Record<Field, string>> = {};
  for (const i of e.issues) {
    const f = i.field.split('.')[0] as Field;
    if (FIELDS.includes(f) && fields[f] === undefined) fields[f] = i.message;
  }
  return { fields, general: Object.keys(fields).length === 0 ? e.message : null };
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <span id={id} className="field-error" role="alert">
      {message}
    </span>
  );
}

/** Log a visit, call, meeting or interview: kind, when, planned or done, notes (and who attended, how long). */
function VisitForm({ userId, onLogged }: { userId: string; onLogged: (v: Visit) => void }) {
  const id = useId();
  const [kind, setKind] = useState<(typeof VISIT_KINDS)[number]>('visit');
  const [at, setAt] = useState(localNow);
  const [planned, setPlanned] = useState(false);
  const [notes, setNotes] = useState('');
  const [attendees, setAttendees] = useState('');
  const [minutes, setMinutes] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<ReturnType<typeof errorsOf>>({ fields: {}, general: null });
  const [logged, setLogged] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setLogged(null);
    setErrors({ fields: {}, general: null });
    // The browser reads the local date and time in its own time zone; the API takes the instant.
    const when = new Date(at);
    if (at === '' || Number.isNaN(when.getTime())) {
      setErrors({ fields: { at: 'give the date and time' }, general: null });
      setBusy(false);
      return;
    }
    try {
      const v = await api.logVisit({
        customer: userId,
        kind,
        status: planned ? 'planned' : 'done',
        at: when.toISOString(),
        ...(notes.trim() ? { notes } : {}),
        attendees: attendees.split(',').map((a) => a.trim()).filter((a) => a.length > 0),
        ...(minutes.trim() ? { durationMinutes: Number(minutes) } : {}),
      });
      setNotes('');
      setLogged(`Logged: ${capitalize(v.kind)}, ${formatDateTime(v.at)} (${v.status}).`);
      onLogged(v);
    } catch (err) {
      setErrors(errorsOf(err));
    } finally {
      setBusy(false);
    }
  };

  const describedBy = (f: Field) => (errors.fields[f] ? `${id}-${f}-error` : undefined);
  return (
    <form className="visit-form" aria-label="Log a visit form" onSubmit={(e) => void submit(e)} noValidate>
      <div className="form-row">
        <label className="form-field">
          <span>Kind</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)} aria-invalid={errors.fields.kind ? true : undefined} aria-describedby={describedBy('kind')}>
            {VISIT_KINDS.map((k) => (
              <option key={k} value={k}>
                {capitalize(k)}
              </option>
            ))}
          </select>
          <FieldError id={`${id}-kind-error`} message={errors.fields.kind} />
        </label>
        <label className="form-field">
          <span>When</span>
          <input type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} aria-invalid={errors.fields.at ? true : undefined} aria-describedby={describedBy('at')} data-testid="visit-at" />
          <FieldError id={`${id}-at-error`} message={errors.fields.at} />
        </label>
        <fieldset className="form-field form-choice">
          <legend>Status</legend>
          <label>
            <input type="radio" name={`${id}-status`} checked={!planned} onChange={() => setPlanned(false)} /> took place
          </label>
          <label>
            <input type="radio" name={`${id}-status`} checked={planned} onChange={() => setPlanned(true)} /> is planned
          </label>
          <FieldError id={`${id}-status-error`} message={errors.fields.status} />
        </fieldset>
        <label className="form-field form-narrow">
          <span>Minutes</span>
          <input type="number" min={1} max={1440} inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} aria-invalid={errors.fields.durationMinutes ? true : undefined} aria-describedby={describedBy('durationMinutes')} />
          <FieldError id={`${id}-durationMinutes-error`} message={errors.fields.durationMinutes} />
        </label>
      </div>
      <label className="form-field">
        <span>Notes</span>
        <textarea rows={4} maxLength={20_000} value={notes} onChange={(e) => setNotes(e.target.value)} placeholder="What was said and seen; a done visit's notes are read by listening (themes, sentiment)" aria-invalid={errors.fields.notes ? true : undefined} aria-describedby={describedBy('notes')} data-testid="visit-notes" />
        <FieldError id={`${id}-notes-error`} message={errors.fields.notes} />
      </label>
      <label className="form-field">
        <span>Attended by (comma-separated)</span>
        <input type="text" value={attendees} onChange={(e) => setAttendees(e.target.value)} maxLength={2000} aria-invalid={errors.fields.attendees ? true : undefined} aria-describedby={describedBy('attendees')} />
        <FieldError id={`${id}-attendees-error`} message={errors.fields.attendees} />
      </label>
      <div className="toolbar">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Logging…' : 'Log it'}
        </button>
        {logged && <span role="status">{logged}</span>}
        {errors.general && (
          <span className="field-error" role="alert">
            {errors.general}
          </span>
        )}
      </div>
    </form>
  );
}

/** A customer's visits, calls, meetings and interviews, and a form to log one. */
export function VisitsPanel({ userId, onChange }: { userId: string; onChange: () => void }) {
  const state = useApi((signal) => api.customerVisits(userId, { limit: 20 }, signal), [userId]);
  const changed = () => {
    state.reload();
    onChange();
  };
  return (
    <Panel
      title="Visits, calls and meetings"
      how="Logged by the team, planned or past. One that took place is recorded as a two-way (mutual) interaction, and its notes as a feedback item that listening reads; the LOVE rules count visits and interviews as Co-creation, calls and meetings as conversations."
    >
      <div className="stack" data-testid="customer-visits">
        {state.status === 'loading' && <Loading />}
        {state.status === 'error' && <ErrorPanel error={state.error} onRetry={state.reload} />}
        {state.status === 'ready' && (state.data.items.length === 0 ? <Empty title="No visits logged yet" /> : <VisitList items={state.data.items} showCustomer={false} onChanged={changed} testId="customer-visit-list" />)}
        <section className="visit-log" aria-label="Log a visit">
          <h3>Log a visit, call, meeting or interview</h3>
          <VisitForm userId={userId} onLogged={changed} />
        </section>
      </div>
    </Panel>
  );
}
