import { isUtf8 } from 'node:buffer';
import { RapportError } from './errors.js';
import { NUL_PROBLEM } from './limits.js';

/**
 * JSON as it arrives in request bodies, checked the same way for every route: the bytes must
 * be UTF-8, the text must be JSON, and nothing inside may be a key that would reach an
 * object's prototype when the value is copied (`__proto__`, `constructor`) or a string
 * PostgreSQL cannot store (a NUL character). Every refusal names where it is, so that a
 * client can find it in what it sent.
 */

/** Keys refused anywhere in a body: copying a value that has them (`{ ...v }`, merges) can change objects' prototypes. */

/**
 * The byte offset of the first byte that does not begin a well-formed UTF-8 sequence (an
 * unexpected continuation byte, an overlong form, a surrogate, past U+10FFFF, a truncated
 * sequence), or -1 when all of `bytes` is UTF-8.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const tail = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (tail === 0 || i + tail >= bytes.length) return i;
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
    const low = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k <= tail; k++) {
      const b = bytes[i + k]!;
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += tail + 1;
  }
  return -1;
}

/** The body as text, or an invalid-input error naming the byte offset where it stops being UTF-8. */
export function decodeUtf8Body(bytes: Buffer): string {
  // isUtf8 is native and fast; the offset is looked for only in a body that fails it.
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const at = firstInvalidUtf8(bytes);
  const shown = bytes.subarray(at, at + 4).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  throw new RapportError('invalid_input', `body: not valid UTF-8 at byte ${at} (bytes ${shown}); send the body encoded as UTF-8`, [
    { field: 'body', message: `not valid UTF-8 at byte ${at}` },
  ]);
}

/**
 * What is wrong inside a parsed JSON value, or undefined: a key named `__proto__`, a
 * `constructor` key holding `prototype`, or a NUL character in a string or a key. `path` names the value (`''` for a
 * body, whose fields are named as they are: `properties.__proto__`, `batch[2].userId`).
 * Iterative, so that a value nested thousands deep cannot overflow the stack that checks it.
 */
export function jsonProblem(root: unknown, path: string): { field: string; message: string } | undefined {
  const stack: { v: unknown; at: string }[] = [{ v: root, at: path }];
  while (stack.length > 0) {
    const { v, at } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { field: at, message: NUL_PROBLEM };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: `${at}[${i}]` });
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const field = at === '' ? k : `${at}.${k}`;
        if (k === '__proto__') return { field, message: 'keys named __proto__ are not accepted' };
        // `constructor` is an ordinary word ("constructor": "Lego"); only with a `prototype`
        // inside can it reach an object's prototype when copied.
        if (k === 'constructor' && typeof x === 'object' && x !== null && Object.hasOwn(x, 'prototype')) {
          return { field, message: 'a constructor key holding prototype is not accepted' };
        }
        if (k.includes('\u0000')) return { field: at === '' ? '(body)' : at, message: `a key that ${NUL_PROBLEM}` };
        stack.push({ v: x, at: field });
      }
    }
  }
  return undefined;
}

/** A refusal from {@link jsonProblem} as an invalid-input error naming the field. */
export function jsonProblemError(problem: { field: string; message: string }): RapportError {
  const field = problem.field === '' ? 'body' : problem.field;
  return new RapportError('invalid_input', `${field}: ${problem.message}`, [{ field, message: problem.message }]);
}

/**
 * A request body's bytes as the JSON value they hold, checked as the module says; `sentAs`
 * names the content type in the message when the text is not JSON.
 */
export function parseJsonBody(bytes: Buffer, sentAs: string): unknown {
  return checkedJson(decodeUtf8Body(bytes), sentAs);
}

/** Text (already decoded) as the JSON value it holds, checked as {@link parseJsonBody} does. */
export function checkedJson(text: string, sentAs: string): unknown {
  if (text.trim() === '') {
    throw new RapportError('invalid_input', `body: empty, but sent as ${sentAs}: send a JSON value`, [{ field: 'body', message: 'empty' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RapportError('invalid_input', `body: expected JSON (sent as ${sentAs}): ${(e as Error).message}`, [{ field: 'body', message: 'not JSON' }]);
  }
  const problem = jsonProblem(value, '');
  if (problem) throw jsonProblemError(problem);
  return value;
}
