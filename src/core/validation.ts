import type { z } from 'zod';
import { RapportError, type FieldIssue } from './errors.js';

/** zod's issues as field issues: the field is the path below `prefix` (dots between). */
export function zodIssues(error: z.ZodError, prefix = '', row?: number): FieldIssue[] {
  return error.issues.map((i) => {
    const field = [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix || 'input';
    return row === undefined ? { field, message: i.message } : { field, message: i.message, row };
  });
}

/** An invalid-input error from zod's issues; its message names the first field (and row). */
export function zodError(error: z.ZodError, prefix = '', row?: number): RapportError {
  const issues = zodIssues(error, prefix, row);
  const first = issues[0]!;
  const where = row === undefined ? first.field : `row ${row}, field ${first.field}`;
  return new RapportError('invalid_input', `${where}: ${first.message}`, issues);
}

/** Parses with a schema or throws `zodError`. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw zodError(r.error, prefix);
}
