/** The LOVE stage rules in force: the team's newest saved version, else the default file. */
import type { StageRules } from '../models/stages/rules.js';
import type { Conn } from '../store/db.js';
import { defaultRulesText, parseRules } from './rules-file.js';
import { latestRules, saveRules } from './stages.repository.js';

export interface RulesInForce {
  rules: StageRules;
  source: string;
  /** The saved version's id; null for the default. */
  version: number | null;
  savedAt: number | null;
  savedBy: string | null;
}

let defaults: { source: string; rules: StageRules } | undefined;

export function defaultRules(): { source: string; rules: StageRules } {
  if (!defaults) {
    const source = defaultRulesText();
    defaults = { source, rules: parseRules(source) };
  }
  return defaults;
}

/** Saved versions already read, by their text (a process may hold several databases, whose ids overlap). */
const parsed = new Map<string, StageRules>();

export async function rulesInForce(db: Conn): Promise<RulesInForce> {
  const saved = await latestRules(db);
  if (!saved) return { ...defaultRules(), version: null, savedAt: null, savedBy: null };
  // A saved version was checked when it was saved; the same parser reads it.
  let rules = parsed.get(saved.source);
  if (!rules || parsed.size > 64) {
    if (parsed.size > 64) parsed.clear();
    rules = parseRules(saved.source);
    parsed.set(saved.source, rules);
  }
  return { rules, source: saved.source, version: saved.id, savedAt: saved.created_at, savedBy: saved.created_by };
}

/** Checks and saves a new version; a file with errors throws (invalid_input with every line) and changes nothing. */
export async function replaceRules(db: Conn, source: string, at: number, by: string | null): Promise<RulesInForce> {
  const rules = parseRules(source);
  const id = await saveRules(db, { source, name: rules.name, at, by });
  return { rules, source, version: id, savedAt: at, savedBy: by };
}

/** Whether a stored rules text places customers as `rules` do (comments and layout aside). */
export function sameRules(source: string, rules: StageRules): boolean {
  let parsed = parsedCache.get(source);
  if (parsed === undefined) {
    try {
      parsed = JSON.stringify(parseRules(source));
    } catch {
      parsed = '';
    }
    parsedCache.set(source, parsed);
  }
  return parsed === JSON.stringify(rules);
}
const parsedCache = new Map<string, string>();
