/**
 * The LOVE stages' rules file: YAML (rules/love-stages.yaml is the default, documented there
 * and in docs/design.md), read into the engine's rules (models/stages/rules.ts) with every
 * error named by line, rule and what was expected. A file with errors is refused whole, so a
 * bad file never replaces a good one.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { RapportError, type FieldIssue } from '../core/errors.js';
import { BASE_MEASURES, MAX_MONTHS, MONTH_MEASURES, STAGE_KEYS, type BaseMeasure, type Condition, type Measure, type StageRule, type StageRules } from '../models/stages/rules.js';

/** The default rules file, shipped with Rapport (the same path from src/ and from dist/). */
export const DEFAULT_RULES_FILE = new URL('../../rules/love-stages.yaml', import.meta.url);

/** The largest rules file accepted, in bytes. */
export const MAX_RULES_BYTES = 256 * 1024;
const MAX_WINDOW_DAYS = 3660;
const MAX_CONDITIONS = 200;
const MAX_EVENTS = 500;
/** Channels of conversation when the file names none. */
export const DEFAULT_CONVERSATION_CHANNELS = ['email', 'support', 'phone', 'in_person', 'chat', 'sms', 'portal', 'social', 'video'];

export function defaultRulesText(): string {
  return readFileSync(DEFAULT_RULES_FILE, 'utf8');
}

export interface RuleIssue extends FieldIssue {
  /** The line in the file (1-based). */
  row: number;
  /** The stage (or section) the issue is in. */
  rule: string;
}

type Path = (string | number)[];

class Checker {
  readonly issues: RuleIssue[] = [];
  conditions = 0;
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  lineOf(path: Path): number {
    for (let p = path; p.length >= 0; p = p.slice(0, -1)) {
      const node = p.length === 0 ? this.doc.contents : (this.doc.getIn(p, true) as { range?: [number, number, number] } | undefined);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
      if (p.length === 0) break;
    }
    return 1;
  }

  fail(path: Path, rule: string, message: string): void {
    const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    this.issues.push({ field: field || '(file)', message, row: this.lineOf(path), rule });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function number(c: Checker, v: unknown, path: Path, rule: string, lo: number, hi: number, what: string): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    c.fail(path, rule, `expected ${what}, a number from ${lo} to ${hi}; got ${JSON.stringify(v) ?? 'nothing'}`);
    return null;
  }
  if (v < lo || v > hi) {
    c.fail(path, rule, `expected ${what} from ${lo} to ${hi}; got ${v}`);
    return null;
  }
  return v;
}

function text(c: Checker, v: unknown, path: Path, rule: string, what: string, max = 2000): string | null {
  if (typeof v !== 'string' || v.trim() === '') {
    c.fail(path, rule, `expected ${what} (text); got ${JSON.stringify(v) ?? 'nothing'}`);
    return null;
  }
  if (v.length > max) {
    c.fail(path, rule, `${what} is longer than ${max} characters`);
    return null;
  }
  return v.trim();
}

function unknownKeys(c: Checker, o: Record<string, unknown>, allowed: readonly string[], path: Path, rule: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) c.fail([...path, k], rule, `unknown key ${k}: expected one of ${allowed.join(', ')}`);
}

function condition(c: Checker, v: unknown, path: Path, rule: string, groups: Set<string>): Condition | null {
  if (++c.conditions > MAX_CONDITIONS) {
    if (c.conditions === MAX_CONDITIONS + 1) c.fail(path, rule, `more than ${MAX_CONDITIONS} conditions in the file`);
    return null;
  }
  if (!isObject(v)) {
    c.fail(path, rule, 'expected a condition: { measure, at_least | at_most, window_days? }, or all: [...], any: [...], at_least: N with of: [...]');
    return null;
  }
  const list = (key: string): Condition[] | null => {
    const items = v[key];
    if (!Array.isArray(items) || items.length === 0) {
      c.fail([...path, key], rule, `expected a list of conditions under ${key}`);
      return null;
    }
    const out = items.map((x, i) => condition(c, x, [...path, key, i], rule, groups));
    return out.every((x) => x !== null) ? (out) : null;
  };
  if ('all' in v || 'any' in v) {
    const k = 'all' in v ? 'all' : 'any';
    unknownKeys(c, v, [k], path, rule);
    const parts = list(k);
    return parts ? (k === 'all' ? { all: parts } : { any: parts }) : null;
  }
  if ('of' in v) {
    unknownKeys(c, v, ['at_least', 'of'], path, rule);
    const parts = list('of');
    const need = number(c, v['at_least'], [...path, 'at_least'], rule, 1, Array.isArray(v['of']) ? Math.max(1, v['of'].length) : 1, 'at_least (how many of the conditions)');
    return parts && need !== null ? { atLeast: Math.round(need), of: parts } : null;
  }
  unknownKeys(c, v, ['measure', 'window_days', 'at_least', 'at_most'], path, rule);
  const m = v['measure'];
  let measure: Measure | null = null;
  if (typeof m !== 'string') c.fail([...path, 'measure'], rule, `expected measure: one of ${BASE_MEASURES.join(', ')}, feedback:<kind> or events:<group>`);
  else if (m.startsWith('events:')) {
    if (groups.has(m.slice(7))) measure = m as Measure;
    else c.fail([...path, 'measure'], rule, `no event group ${m.slice(7)} under events: expected one of ${[...groups].join(', ') || '(none defined)'}`);
  } else if (m.startsWith('feedback:')) {
    if (/^[a-z_]{1,40}$/.test(m.slice(9))) measure = m as Measure;
    else c.fail([...path, 'measure'], rule, `expected feedback:<kind> with a kind such as ticket, review, survey, interview, visit_note; got ${m}`);
  } else if ((BASE_MEASURES as readonly string[]).includes(m)) measure = m as BaseMeasure;
  else c.fail([...path, 'measure'], rule, `unknown measure ${m}: expected one of ${BASE_MEASURES.join(', ')}, feedback:<kind> or events:<group>`);
  const months = measure !== null && MONTH_MEASURES.includes(measure as BaseMeasure);
  const maxWindow = months ? Math.floor(MAX_MONTHS * 30.4) : MAX_WINDOW_DAYS;
  const windowDays = v['window_days'] === undefined ? null : number(c, v['window_days'], [...path, 'window_days'], rule, 1, maxWindow, months ? `window_days (a months measure looks back at most ${MAX_MONTHS} months)` : 'window_days');
  const atLeast = v['at_least'] === undefined ? null : number(c, v['at_least'], [...path, 'at_least'], rule, -1e12, 1e12, 'at_least');
  const atMost = v['at_most'] === undefined ? null : number(c, v['at_most'], [...path, 'at_most'], rule, -1e12, 1e12, 'at_most');
  if (v['at_least'] === undefined && v['at_most'] === undefined) c.fail(path, rule, `the condition on ${String(m)} needs at_least or at_most`);
  if (atLeast !== null && atMost !== null && atLeast > atMost) c.fail(path, rule, `at_least ${atLeast} is above at_most ${atMost}: nobody could meet it`);
  if (measure === null || (atLeast === null && atMost === null)) return null;
  return { measure, windowDays: windowDays === null ? null : Math.round(windowDays), atLeast, atMost };
}

/** Reads a rules file's text; throws invalid_input listing every issue (line, rule, what was expected). */
export function parseRules(source: string): StageRules {
  if (Buffer.byteLength(source, 'utf8') > MAX_RULES_BYTES) throw new RapportError('invalid_input', `the rules file is larger than ${MAX_RULES_BYTES / 1024} KiB`, [{ field: 'rules', message: 'too large' }]);
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ field: '(file)', message: e.message.split('\n')[0]!, row: e.linePos?.[0].line ?? 1, rule: 'yaml' }));
    throw rulesError(issues);
  }
  const c = new Checker(doc, lines);
  const root = doc.toJS({ maxAliasCount: 10 }) as unknown;
  if (!isObject(root)) throw rulesError([{ field: '(file)', message: 'expected a mapping with version, events, scores, stages, momentum, accounts', row: 1, rule: 'file' }]);
  unknownKeys(c, root, ['version', 'name', 'events', 'conversation_channels', 'reactions', 'scores', 'stages', 'momentum', 'accounts', 'history', 'value'], [], 'file');
  const version = number(c, root['version'], ['version'], 'file', 1, 1, 'version (this format is version 1)') ?? 1;
  const name = root['name'] === undefined ? 'custom' : (text(c, root['name'], ['name'], 'file', 'name', 200) ?? 'custom');

  const events: Record<string, string[]> = {};
  const ev = root['events'] ?? {};
  if (!isObject(ev)) c.fail(['events'], 'events', 'expected a mapping of group names to lists of event names');
  else {
    let total = 0;
    for (const [g, names] of Object.entries(ev)) {
      if (!/^[a-z][a-z0-9_]{0,39}$/.test(g)) c.fail(['events', g], 'events', `a group name is lower-case letters, digits and _ (up to 40); got ${g}`);
      if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.trim() !== '' && n.length <= 200)) {
        c.fail(['events', g], `events.${g}`, 'expected a list of event names (text, up to 200 characters each)');
        continue;
      }
      total += names.length;
      events[g] = [...new Set(names.map((n) => (n as string).trim().toLowerCase()))];
    }
    if (Object.keys(ev).length > 28) c.fail(['events'], 'events', 'at most 28 event groups');
    if (total > MAX_EVENTS) c.fail(['events'], 'events', `at most ${MAX_EVENTS} event names in all`);
  }
  const groups = new Set(Object.keys(events));

  const cc = root['conversation_channels'] ?? DEFAULT_CONVERSATION_CHANNELS;
  let conversationChannels = DEFAULT_CONVERSATION_CHANNELS;
  if (!Array.isArray(cc) || cc.length > 50 || !cc.every((x) => typeof x === 'string' && /^[a-z0-9_ -]{1,40}$/i.test(x))) c.fail(['conversation_channels'], 'conversation_channels', 'expected a list of up to 50 channel names (letters, digits, _ and -)');
  else conversationChannels = [...new Set(cc.map((x) => (x as string).trim().toLowerCase()))];
  const re = root['reactions'] ?? [];
  let reactions: string[] = [];
  if (!Array.isArray(re) || re.length > 100 || !re.every((x) => typeof x === 'string' && x.trim() !== '' && x.length <= 200)) c.fail(['reactions'], 'reactions', 'expected a list of up to 100 event names');
  else reactions = [...new Set(re.map((x) => (x as string).trim().toLowerCase()))];

  const sc = root['scores'] ?? {};
  let scores = { promoterMin: 9, detractorMax: 6 };
  if (!isObject(sc)) c.fail(['scores'], 'scores', 'expected promoter_min and detractor_max');
  else {
    unknownKeys(c, sc, ['promoter_min', 'detractor_max'], ['scores'], 'scores');
    scores = {
      promoterMin: sc['promoter_min'] === undefined ? 9 : (number(c, sc['promoter_min'], ['scores', 'promoter_min'], 'scores', 0, 10, 'promoter_min') ?? 9),
      detractorMax: sc['detractor_max'] === undefined ? 6 : (number(c, sc['detractor_max'], ['scores', 'detractor_max'], 'scores', 0, 10, 'detractor_max') ?? 6),
    };
  }

  const stages: StageRule[] = [];
  const st = root['stages'];
  if (!Array.isArray(st)) c.fail(['stages'], 'stages', `expected a list of the five stages in order: ${STAGE_KEYS.join(', ')}`);
  else {
    if (st.length !== STAGE_KEYS.length) c.fail(['stages'], 'stages', `expected the five stages in order (${STAGE_KEYS.join(', ')}); got ${st.length}`);
    st.forEach((s: unknown, k) => {
      const expected = STAGE_KEYS[k];
      const rule = isObject(s) && typeof s['key'] === 'string' ? s['key'] : (expected ?? `stages[${k}]`);
      if (!isObject(s)) return c.fail(['stages', k], rule, 'expected a stage: key, name, description, when');
      unknownKeys(c, s, ['key', 'name', 'description', 'when'], ['stages', k], rule);
      if (expected === undefined) return;
      if (s['key'] !== expected) return c.fail(['stages', k, 'key'], rule, `expected key ${expected} here (the stages are ${STAGE_KEYS.join(', ')}, in this order); got ${JSON.stringify(s['key']) ?? 'nothing'}`);
      const stageName = text(c, s['name'], ['stages', k, 'name'], rule, 'name', 60) ?? expected;
      const description = text(c, s['description'], ['stages', k, 'description'], rule, 'description') ?? '';
      let when: Condition | null = null;
      if (k === 0) {
        if (s['when'] !== undefined) c.fail(['stages', k, 'when'], rule, 'introduction has no rule: it is where every customer starts');
      } else if (s['when'] === undefined) c.fail(['stages', k], rule, `expected when: the condition that places a customer at ${expected}`);
      else when = condition(c, s['when'], ['stages', k, 'when'], rule, groups);
      stages.push({ key: expected, name: stageName, description, when });
    });
  }

  const mo = root['momentum'];
  const path = (...p: string[]): Path => ['momentum', ...p];
  const m = isObject(mo) ? mo : {};
  if (!isObject(mo)) c.fail(['momentum'], 'momentum', 'expected window_days, warming and cooling');
  const w = isObject(m['warming']) ? m['warming'] : {};
  const co = isObject(m['cooling']) ? m['cooling'] : {};
  if (isObject(mo)) {
    unknownKeys(c, m, ['window_days', 'warming', 'cooling'], ['momentum'], 'momentum');
    if (!isObject(m['warming'])) c.fail(path('warming'), 'momentum', 'expected activity_ratio_at_least, min_recent, p_alive_rise');
    if (!isObject(m['cooling'])) c.fail(path('cooling'), 'momentum', 'expected activity_ratio_at_most, min_previous, p_alive_drop');
    unknownKeys(c, w, ['activity_ratio_at_least', 'min_recent', 'p_alive_rise'], path('warming'), 'momentum');
    unknownKeys(c, co, ['activity_ratio_at_most', 'min_previous', 'p_alive_drop'], path('cooling'), 'momentum');
  }
  const momentum = {
    windowDays: Math.round(number(c, m['window_days'], path('window_days'), 'momentum', 7, 730, 'window_days') ?? 90),
    warming: {
      activityRatioAtLeast: number(c, w['activity_ratio_at_least'], path('warming', 'activity_ratio_at_least'), 'momentum', 1, 100, 'activity_ratio_at_least') ?? 1.5,
      minRecent: number(c, w['min_recent'], path('warming', 'min_recent'), 'momentum', 1, 1e6, 'min_recent') ?? 3,
      pAliveRise: number(c, w['p_alive_rise'], path('warming', 'p_alive_rise'), 'momentum', 0.001, 1, 'p_alive_rise') ?? 0.1,
    },
    cooling: {
      activityRatioAtMost: number(c, co['activity_ratio_at_most'], path('cooling', 'activity_ratio_at_most'), 'momentum', 0, 1, 'activity_ratio_at_most') ?? 0.5,
      minPrevious: number(c, co['min_previous'], path('cooling', 'min_previous'), 'momentum', 1, 1e6, 'min_previous') ?? 3,
      pAliveDrop: number(c, co['p_alive_drop'], path('cooling', 'p_alive_drop'), 'momentum', 0.001, 1, 'p_alive_drop') ?? 0.1,
    },
  };

  const ac = root['accounts'] ?? {};
  let minPeople = 2;
  if (!isObject(ac)) c.fail(['accounts'], 'accounts', 'expected min_people');
  else {
    unknownKeys(c, ac, ['min_people'], ['accounts'], 'accounts');
    if (ac['min_people'] !== undefined) minPeople = Math.round(number(c, ac['min_people'], ['accounts', 'min_people'], 'accounts', 1, 1000, 'min_people') ?? 2);
  }

  const hi = root['history'] ?? {};
  const history = { months: 24, horizonMonths: 6 };
  if (!isObject(hi)) c.fail(['history'], 'history', 'expected months and horizon_months');
  else {
    unknownKeys(c, hi, ['months', 'horizon_months'], ['history'], 'history');
    if (hi['months'] !== undefined) history.months = Math.round(number(c, hi['months'], ['history', 'months'], 'history', 3, MAX_HISTORY_MONTHS, 'months') ?? 24);
    if (hi['horizon_months'] !== undefined) history.horizonMonths = Math.round(number(c, hi['horizon_months'], ['history', 'horizon_months'], 'history', 1, 24, 'horizon_months') ?? 6);
    if (history.horizonMonths >= history.months) c.fail(['history', 'horizon_months'], 'history', `expected horizon_months below months (${history.months}): a move up is looked for within the history`);
  }

  const va = root['value'] ?? {};
  const contributions: StageRules['value']['contributions'] = [];
  if (!isObject(va)) c.fail(['value'], 'value', 'expected contributions');
  else {
    unknownKeys(c, va, ['contributions'], ['value'], 'value');
    const co = va['contributions'] ?? {};
    if (!isObject(co)) c.fail(['value', 'contributions'], 'value', 'expected a mapping of event groups to a worth each (a number, or referred_clv)');
    else
      for (const [g, w] of Object.entries(co)) {
        if (!groups.has(g)) {
          c.fail(['value', 'contributions', g], 'value', `no event group ${g} under events (groups: ${[...groups].join(', ')})`);
          continue;
        }
        if (w === 'referred_clv') contributions.push({ group: g, worth: 'referred_clv' });
        else {
          const v = number(c, w, ['value', 'contributions', g], 'value', 0, 1e9, `the worth of one event of group ${g} (or referred_clv)`);
          if (v !== null) contributions.push({ group: g, worth: v });
        }
      }
  }

  if (c.issues.length > 0) throw rulesError(c.issues);
  return { version, name, events, conversationChannels, reactions, scores, stages, momentum, accounts: { minPeople }, history, value: { contributions } };
}

/** The longest history kept, in months (a run places every customer once per month). */
export const MAX_HISTORY_MONTHS = 60;

function rulesError(issues: RuleIssue[]): RapportError {
  const sorted = [...issues].sort((a, b) => a.row - b.row);
  const first = sorted[0]!;
  const more = sorted.length > 1 ? ` (and ${sorted.length - 1} more)` : '';
  return new RapportError(
    'invalid_input',
    `rules file, line ${first.row}, ${first.rule}: ${first.message}${more}`,
    sorted.map((i) => ({ field: i.field, message: `line ${i.row}, ${i.rule}: ${i.message}`, row: i.row })),
  );
}

/** Every issue of a rules file as lines (`line 12, commitment: …`), or [] when it is good. */
export function checkRules(source: string): string[] {
  try {
    parseRules(source);
    return [];
  } catch (e) {
    if (e instanceof RapportError) return e.issues.length > 0 ? e.issues.map((i) => i.message) : [e.message];
    throw e;
  }
}
