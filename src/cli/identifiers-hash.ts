// `relay identifiers hash`: JSON lines of plaintext identities in, JSON lines of CM360 userIdentifiers out,
// so operators can check what the relay would send without sending it. One output line per non-blank input
// line keeps the two files aligned; errors name the line and field but never repeat a value.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type z } from 'zod';
import { toCm360UserIdentifiers } from '../domain/cm360/identifiers';
import { hashIdentity } from '../domain/identifiers/hash';
import type { Cm360UserIdentifier } from '../domain/cm360/types';
import { plainIdentitySchema } from '../domain/identifiers/schema';
import type { DroppedIdentifier, HashIdentityOptions } from '../domain/identifiers/types';

export async function runIdentifiersHash(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  opts: HashIdentityOptions,
): Promise<{ lines: number; errors: number }> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let lines = 0;
  let errors = 0;
  for await (const line of rl) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    lines += 1;
    const result = hashLine(line, opts);
    if ('error' in result) errors += 1;
    const out = 'error' in result ? { error: `line ${lineNumber}: ${result.error}` } : result;
    if (!output.write(`${JSON.stringify(out)}\n`)) await once(output, 'drain');
  }
  return { lines, errors };
}

type LineResult = { error: string } | { userIdentifiers: Cm360UserIdentifier[]; dropped: DroppedIdentifier[] };

function hashLine(line: string, opts: HashIdentityOptions): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // V8's SyntaxError message quotes the input, which may be someone's email address.
    return { error: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'expected a JSON object' };
  }
  const parsed = plainIdentitySchema.safeParse(value);
  if (!parsed.success) return { error: describeIssues(parsed.error.issues) };
  const { identity, dropped } = hashIdentity(parsed.data, opts);
  return { userIdentifiers: toCm360UserIdentifiers(identity), dropped };
}

// Built from issue codes and paths rather than zod's messages, which are free to include received values.
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`;
      }
      const field = issue.path.map(String).join('.');
      if (issue.code === 'invalid_type') return `field "${field}" must be a string`;
      return `field "${field}" is invalid`;
    })
    .join('; ');
}
