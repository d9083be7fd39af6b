import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from './stores.js';

/** Where sentiment-sentences (Kotzias et al. 2015) are. */
export const SENTENCES = path.join(SHARED_DATA, 'sentiment-sentences');

/** A file's rows labelled 0 or 1 (`sentence<TAB>label`); rows with other labels are not part of the two-class set. */
export function readSentences(file: string, dir = SENTENCES): { text: string; label: 'negative' | 'positive' }[] {
  return fs
    .readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => /\t[01]\s*$/.test(l))
    .map((l) => ({ text: l.slice(0, l.lastIndexOf('\t')).trim(), label: l.trim().endsWith('1') ? ('positive' as const) : ('negative' as const) }));
}
