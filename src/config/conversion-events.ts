// Reads the RELAY_CONFIG file: the conversion event definitions (hubspot, googleAds, definitions) and the
// `pendo:` and `calls:` sections, each optional. Everything wrong with its content comes back as problems naming the path
// (and line) so `relay events validate` can show all of them at once; only a file that cannot be read at all
// is an exception.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import {
  configEnvelopeSchema,
  conversionEventsConfigSchema,
  definitionSchema,
  formatPath,
  formatProblem,
  parsePath,
  resolveAccounts,
  validateDefinitions,
  type ConversionEventsConfig,
  type Definition,
  type DefinitionProblem,
} from '../domain/conversion-events/definitions';
import { callsConfigSchema, type CallsConfig } from '../domain/calls/config';
import { pendoConfigSchema, type PendoConfig } from '../domain/pendo/config';
import { ConfigError } from './env';

export interface LoadedConversionEvents {
  /**
   * The conversion event definitions; absent when the file has errors of form (then `problems` says why) or
   * declares none (a file with only a `pendo:` section).
   */
  config?: ConversionEventsConfig;
  /** The `pendo:` section (Flow E), when the file has one without errors. */
  pendo?: PendoConfig;
  /** The `calls:` section (Flow C), when the file has one without errors. */
  calls?: CallsConfig;
  problems: DefinitionProblem[];
}

/** Top-level sections of the file besides the conversion events (hubspot, googleAds, definitions). */
const OTHER_SECTIONS = ['pendo', 'calls'] as const;

export interface LoadOptions {
  now?: number;
}

/** Throws ConfigError only when the file cannot be read; bad content is reported in `problems`. */
export function loadConversionEventsConfig(path: string, opts: LoadOptions = {}): LoadedConversionEvents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(err));
    throw new ConfigError(`cannot read the conversion events file ${path}: ${why}`);
  }
  return parseConversionEventsConfig(text, formatOf(path), opts);
}

export interface RelayConfigFile {
  conversionEvents?: ConversionEventsConfig;
  pendo?: PendoConfig;
  calls?: CallsConfig;
  warnings: DefinitionProblem[];
}

/**
 * For the api and worker: every section the file declares, or a ConfigError listing every error in it.
 * Warnings do not stop anything (a form on a manager account is allowed, it just never uploads); the caller
 * should log them.
 */
export function loadRelayConfigFile(path: string, opts: LoadOptions = {}): RelayConfigFile {
  const { config, pendo, calls, problems } = loadConversionEventsConfig(path, opts);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    const lines = errors.map((p) => `  ${formatProblem(p)}`);
    throw new ConfigError(`invalid configuration file ${path}:\n${lines.join('\n')}`);
  }
  return {
    ...(config ? { conversionEvents: config } : {}),
    ...(pendo ? { pendo } : {}),
    ...(calls ? { calls } : {}),
    warnings: problems.filter((p) => p.severity === 'warning'),
  };
}

/** As loadRelayConfigFile, for callers that need conversion event definitions: a file without them is an error. */
export function loadValidConversionEventsConfig(
  path: string,
  opts: LoadOptions = {},
): { config: ConversionEventsConfig; warnings: DefinitionProblem[] } {
  const { conversionEvents, warnings } = loadRelayConfigFile(path, opts);
  if (!conversionEvents) {
    throw new ConfigError(`invalid configuration file ${path}:\n  (file): declares no conversion event definitions`);
  }
  return { config: conversionEvents, warnings };
}

export type ConfigFormat = 'yaml' | 'json' | 'unknown';

function formatOf(path: string): ConfigFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  return 'unknown';
}

const fileProblem = (message: string, line?: number): DefinitionProblem => ({
  path: '(file)',
  message,
  severity: 'error',
  ...(line !== undefined ? { line } : {}),
});

export function parseConversionEventsConfig(
  text: string,
  format: ConfigFormat,
  opts: LoadOptions = {},
): LoadedConversionEvents {
  if (format === 'unknown') {
    return { problems: [fileProblem('unknown file type: name the file *.yaml, *.yml or *.json')] };
  }
  const lines = new LineCounter();
  // JSON is valid YAML 1.2, so the YAML document also serves to find line numbers in a JSON file.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  let raw: unknown;
  if (format === 'yaml') {
    if (doc.errors.length > 0) {
      return {
        problems: doc.errors.map((e) => fileProblem(`not valid YAML: ${e.message}`, lines.linePos(e.pos[0]).line)),
      };
    }
    raw = doc.toJS();
  } else {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { problems: [fileProblem(`not valid JSON: ${(err as Error).message}`)] };
    }
  }
  if (raw === null || raw === undefined) return { problems: [fileProblem('the file is empty')] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      problems: [
        fileProblem('expected an object with hubspot and definitions, googleAds, pendo, calls (each optional)'),
      ],
    };
  }

  const locate = (problems: DefinitionProblem[]) =>
    problems.map((p) => {
      if (p.line !== undefined) return p;
      const line = lineOf(doc, lines, parsePath(p.path));
      return line === undefined ? p : { ...p, line };
    });

  const sections = raw as Record<string, unknown>;
  const pendo = parseSection('pendo', pendoConfigSchema, sections);
  const calls = parseSection('calls', callsConfigSchema, sections);
  const events = Object.fromEntries(
    Object.entries(sections).filter(([key]) => !(OTHER_SECTIONS as readonly string[]).includes(key)),
  );
  const withSections = (loaded: LoadedConversionEvents): LoadedConversionEvents => ({
    ...loaded,
    ...(pendo.config ? { pendo: pendo.config } : {}),
    ...(calls.config ? { calls: calls.config } : {}),
    problems: locate([...loaded.problems, ...pendo.problems, ...calls.problems]),
  });
  // A file of other sections only declares no conversion events, which is not an error.
  if (Object.keys(events).length === 0 && Object.keys(sections).length > 0) return withSections({ problems: [] });
  return withSections(parseConversionEvents(events, opts));
}

function parseConversionEvents(raw: Record<string, unknown>, opts: LoadOptions): LoadedConversionEvents {
  const full = conversionEventsConfigSchema.safeParse(raw, { reportInput: true });
  if (full.success) return { config: full.data, problems: validateDefinitions(full.data, { now: opts.now }) };
  const problems = full.error.issues.flatMap((issue) => fromIssue(issue, raw));
  return { problems: dedupe([...problems, ...partialProblems(raw, opts)]) };
}

/** One optional top-level section, its problems with paths from the top of the file. */
function parseSection<T>(
  key: string,
  schema: z.ZodType<T>,
  sections: Record<string, unknown>,
): { config?: T; problems: DefinitionProblem[] } {
  if (!(key in sections)) return { problems: [] };
  const parsed = z.object({ [key]: schema }).safeParse({ [key]: sections[key] }, { reportInput: true });
  if (parsed.success) return { config: parsed.data[key], problems: [] };
  return { problems: dedupe(parsed.error.issues.flatMap((issue) => fromIssue(issue, sections))) };
}

// With some definitions malformed, the rules across definitions (duplicate ids, forms, limits) still run on
// the well-formed ones, so one `validate` run shows every problem rather than one layer at a time.
function partialProblems(raw: unknown, opts: LoadOptions): DefinitionProblem[] {
  const envelope = configEnvelopeSchema.safeParse(raw);
  if (!envelope.success) return [];
  const definitions: Definition[] = [];
  const positions: number[] = [];
  envelope.data.definitions.forEach((d, i) => {
    const parsed = definitionSchema.safeParse(d);
    if (parsed.success) {
      definitions.push(parsed.data);
      positions.push(i);
    }
  });
  const indexOf = (position: number) => positions[position] ?? position;
  const { config, problems } = resolveAccounts({ ...envelope.data, definitions }, indexOf);
  return [...problems, ...validateDefinitions(config, { now: opts.now, indexOf })];
}

function dedupe(problems: DefinitionProblem[]): DefinitionProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.severity}\n${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function definitionIdAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'definitions' || typeof path[1] !== 'number') return undefined;
  const definitions = (raw as { definitions?: unknown }).definitions;
  if (!Array.isArray(definitions)) return undefined;
  const id = (definitions[path[1]] as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function fromIssue(issue: z.core.$ZodIssue, raw: unknown): DefinitionProblem[] {
  const definitionId = definitionIdAt(raw, issue.path);
  const problem = (path: readonly PropertyKey[], message: string): DefinitionProblem => ({
    ...(definitionId !== undefined ? { definitionId } : {}),
    path: formatPath(path),
    message,
    severity: 'error',
  });
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => problem([...issue.path, key], `unknown field "${key}"`));
    case 'invalid_type':
      return [
        problem(
          issue.path,
          issue.input === undefined ? 'is required' : `must be ${issue.expected}, not ${describe(issue.input)}`,
        ),
      ];
    case 'invalid_union':
      if (issue.input === undefined) return [problem(issue.path, 'is required')];
      // zod reports the accepted discriminator values at run time without declaring them in the issue type.
      if (issue.discriminator !== undefined && Array.isArray((issue as { options?: unknown }).options)) {
        const options = (issue as unknown as { options: unknown[] }).options.map((o) => JSON.stringify(o)).join(' or ');
        return [problem(issue.path, `must be ${options}`)];
      }
      return [problem(issue.path, issue.message)];
    default:
      return [problem(issue.path, issue.message)];
  }
}

/** The line of the deepest node along `path` that exists in the document (a missing field → its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!item) break;
      node = item;
      offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
