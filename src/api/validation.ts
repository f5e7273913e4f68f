import { z } from 'zod';
import { canonicalInteger, idPartProblem, integerIdProblem } from '../domain/ids';

export interface FieldIssue {
  /** The offending field, e.g. `[3].user.phone` or `timestampMicros`. */
  field: string;
  message: string;
}

export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

export function toFieldIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldIssue[] {
  return error.issues.map((i) => ({
    field: issuePath([...prefix, ...i.path]) || '(body)',
    message: unknownKeyMessage(i) ?? i.message,
  }));
}

function unknownKeyMessage(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  return `unknown field(s): ${issue.keys.join(', ')}`;
}

/**
 * An id of the sender's: a string, or an integer as a JSON number (exact: the body parser hands integers
 * beyond 2^53 over as bigint). A decimal is not an id. With `integer`, only digits (up to int64), read in one
 * spelling ("099999" is 99999).
 */
export const idSchema = (what: string, opts: { integer?: boolean } = {}) =>
  z
    .union([z.string(), z.number(), z.bigint()], { error: `${what} must be a string or an integer` })
    .transform((v, ctx) => {
      if (typeof v === 'number' && !Number.isInteger(v)) {
        ctx.addIssue({ code: 'custom', message: `${what} must be an integer or a string: a decimal is not an id` });
        return z.NEVER;
      }
      if (typeof v !== 'string' && v < 0) {
        ctx.addIssue({ code: 'custom', message: `${what} must not be negative` });
        return z.NEVER;
      }
      const text = typeof v === 'string' ? v.trim() : v.toString();
      const problem = idPartProblem(text) ?? (opts.integer ? integerIdProblem(text) : undefined);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
        return z.NEVER;
      }
      return opts.integer ? canonicalInteger(text) : text;
    });
