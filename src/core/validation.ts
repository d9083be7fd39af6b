import type { z } from 'zod';
import { RapportError, type FieldIssue } from './errors.js';

export interface IssueOptions {
  /** Prepended to each issue's path (`query`, `params`, a file's column); none for a request body. */
  prefix?: string;
  /** The 1-based row of a file the input came from. */
  row?: number;
  /** What the message names when the issue is about the input as a whole (default: the prefix, else `input`). */
  root?: string;
}

/** zod's issues as field issues: the field is the issue's path below the prefix, with dots between. */
export function zodIssues(error: z.ZodError, o: IssueOptions = {}): FieldIssue[] {
  return error.issues.map((i) => {
    const field = [o.prefix, ...i.path.map(String)].filter(Boolean).join('.') || (o.prefix ?? '');
    return o.row === undefined ? { field, message: i.message } : { field, message: i.message, row: o.row };
  });
}

/** An invalid-input error from zod's issues; its message names the first field (and row). */
export function zodError(error: z.ZodError, o: IssueOptions = {}): RapportError {
  const issues = zodIssues(error, o);
  const first = issues[0]!;
  const field = first.field || o.root || o.prefix || 'input';
  const where = o.row === undefined ? field : `row ${o.row}, field ${field}`;
  return new RapportError('invalid_input', `${where}: ${first.message}`, issues);
}

/** Parses with a schema or throws `zodError`. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, o: IssueOptions = {}): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw zodError(r.error, o);
}
