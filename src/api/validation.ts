import type { z } from 'zod';

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
