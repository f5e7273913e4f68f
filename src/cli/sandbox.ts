// `relay sandbox fault|faults|cm360 conversions`: switch the running emulators' faults and read the CM360
// emulator's per-conversion record over their HTTP control routes, from a shell. Loads no emulator: only the
// fault vocabularies (zod) and the stack file `npm start` writes.
import { parseArgs } from 'node:util';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { Env } from '../config/env';
import {
  GOOGLE_ADS_CONTROL_PORT_OFFSET,
  SANDBOX_EMULATORS,
  SANDBOX_FAULTS,
  isSandboxEmulator,
  type SandboxEmulatorName,
} from '../sandbox/catalog';
import type { SandboxStackFile } from '../sandbox/stack-file';

export interface SandboxTarget {
  /** The emulator's control API, e.g. http://127.0.0.1:8089. */
  url: string;
  /** Where the URL came from, for error messages. */
  source: string;
}
export type SandboxTargets = Record<SandboxEmulatorName, SandboxTarget | { missing: string }>;

/** The environment variable that points the CLI at each emulator's control API (src/config/env.ts). */
const URL_VARIABLE = {
  cm360: 'CM360_SANDBOX_URL',
  hubspot: 'HUBSPOT_SANDBOX_URL',
  'google-ads': 'GOOGLE_ADS_SANDBOX_CONTROL_URL',
  pendo: 'PENDO_SANDBOX_URL',
} as const satisfies Record<SandboxEmulatorName, keyof Env>;
type SandboxUrlVariable = (typeof URL_VARIABLE)[SandboxEmulatorName];

export interface SandboxPorts {
  CM360_SANDBOX_PORT: number;
  HUBSPOT_SANDBOX_PORT: number;
  GOOGLE_ADS_SANDBOX_PORT: number;
  PENDO_SANDBOX_PORT: number;
}

/** What sandboxTargets reads of the parsed configuration: the emulators' default ports and control URLs. */
export type SandboxEnv = SandboxPorts & Partial<Pick<Env, SandboxUrlVariable>>;

/**
 * Where each emulator's control API is: `<EMULATOR>_SANDBOX_URL`, else what the running `npm start` stack wrote
 * to sandbox.json in its data directory (RELAY_DATA_DIR, default .data/; an integration with credentials has no
 * emulator there), else the default ports.
 */
export function sandboxTargets(env: SandboxEnv, stack: SandboxStackFile | undefined): SandboxTargets {
  const defaults: Record<SandboxEmulatorName, number> = {
    cm360: env.CM360_SANDBOX_PORT,
    hubspot: env.HUBSPOT_SANDBOX_PORT,
    'google-ads': env.GOOGLE_ADS_SANDBOX_PORT + GOOGLE_ADS_CONTROL_PORT_OFFSET,
    pendo: env.PENDO_SANDBOX_PORT,
  };
  const entries = SANDBOX_EMULATORS.map((name): [SandboxEmulatorName, SandboxTarget | { missing: string }] => {
    const variable = URL_VARIABLE[name];
    const explicit = env[variable];
    if (explicit) return [name, { url: explicit.replace(/\/+$/, ''), source: variable }];
    if (stack) {
      const running = stack.emulators[name];
      return [
        name,
        running
          ? { url: running.controlUrl, source: `sandbox.json (npm start, pid ${stack.pid})` }
          : {
              missing: `npm start (pid ${stack.pid}) runs no ${SANDBOX_FAULTS[name].title} emulator: credentials are set`,
            },
      ];
    }
    return [name, { url: `http://127.0.0.1:${defaults[name]}`, source: 'the default port' }];
  });
  return Object.fromEntries(entries) as SandboxTargets;
}

export type FaultCommand =
  { kind: 'clear' } | { kind: 'set'; body: { type: string; times?: number; forMs?: number } & Record<string, unknown> };

/**
 * `<fault|JSON|clear> [key=value ...] [--count N | --for 30s]` → the body of PUT /_sandbox/fault, validated with
 * the emulator's own schema; a string is the usage problem.
 */
export function parseFaultCommand(emulator: SandboxEmulatorName, args: string[]): FaultCommand | string {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { count: { type: 'string' }, for: { type: 'string' } },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const { values, positionals } = parsed;
  const [name, ...pairs] = positionals;
  const known = SANDBOX_FAULTS[emulator];
  if (!name) return `name a fault: ${Object.keys(known.faults).join(', ')}, or clear`;
  if (name === 'clear') {
    if (pairs.length > 0 || values.count !== undefined || values.for !== undefined) return 'clear takes no options';
    return { kind: 'clear' };
  }
  if (values.count !== undefined && values.for !== undefined) return 'give --count or --for, not both';
  let fault: Record<string, unknown>;
  if (name.startsWith('{')) {
    try {
      fault = z.record(z.string(), z.unknown()).parse(JSON.parse(name));
    } catch {
      return 'the fault is not a JSON object';
    }
  } else {
    if (!(name in known.faults)) {
      return `unknown ${known.title} fault "${name}": ${Object.keys(known.faults).join(', ')} (see relay sandbox faults)`;
    }
    fault = { type: name };
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return `not a key=value option: ${pair}`;
      fault[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  if (values.count !== undefined) {
    const times = Number(values.count);
    if (!Number.isInteger(times) || times < 1) return '--count is a whole number of requests (or rows), 1 or more';
    fault.times = times;
  }
  let forMs: number | undefined;
  if (values.for !== undefined) {
    try {
      forMs = msToNumber(values.for as Parameters<typeof msToNumber>[0]);
    } catch {
      forMs = undefined;
    }
    if (forMs === undefined || !Number.isFinite(forMs) || forMs < 1) return '--for is a duration like 30s or 5m';
  }
  const result = parseWithCoercion(known.schema, fault);
  if (typeof result === 'string') return `${known.title} fault ${String(fault.type)}: ${result}`;
  if (values.count !== undefined && result.times === undefined) {
    return `${known.title} fault ${result.type} is not counted: give --for instead of --count`;
  }
  return { kind: 'set', body: { ...result, ...(forMs === undefined ? {} : { forMs: Math.round(forMs) }) } };
}

/**
 * Options arrive as strings; a field the schema wants as a number (status=503) or boolean is converted, one that
 * wants a string (orderId=1234) stays as typed.
 */
function parseWithCoercion(
  schema: z.ZodType<{ type: string; times?: number }>,
  fault: Record<string, unknown>,
): ({ type: string; times?: number } & Record<string, unknown>) | string {
  const coerced: Record<string, unknown> = Object.fromEntries(
    Object.entries(fault).map(([k, v]) => [
      k,
      typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v,
    ]),
  );
  let result = schema.safeParse(coerced);
  if (!result.success) {
    // Put back the typed text where a string was wanted, and try again.
    for (const issue of result.error.issues) {
      const key = issue.path[0];
      if (typeof key === 'string' && issue.code === 'invalid_type' && issue.expected === 'string') {
        coerced[key] = fault[key];
      }
    }
    result = schema.safeParse(coerced);
  }
  if (!result.success) return z.prettifyError(result.error).replace(/\n/g, '; ');
  return result.data;
}

/** An emulator's control API did not answer, or refused what it was asked. */
export class ControlError extends Error {}

async function control(
  target: SandboxTarget | { missing: string },
  name: SandboxEmulatorName,
  method: 'GET' | 'PUT' | 'DELETE' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  if ('missing' in target) throw new ControlError(target.missing);
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    throw new ControlError(
      `no ${SANDBOX_FAULTS[name].title} emulator answers at ${target.url} (from ${target.source}): is npm start running? ` +
        `${URL_VARIABLE[name]} points the CLI at another one`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

const errorText = (json: unknown) =>
  typeof json === 'object' && json !== null && 'error' in json ? String(json.error) : JSON.stringify(json);

/** Sets a fault on an emulator (PUT /_sandbox/fault); a ControlError says why it was not set. */
export async function setSandboxFault(
  targets: SandboxTargets,
  name: SandboxEmulatorName,
  fault: Record<string, unknown>,
): Promise<void> {
  const res = await control(targets[name], name, 'PUT', '/_sandbox/fault', fault);
  if (res.status !== 204) {
    throw new ControlError(
      `${SANDBOX_FAULTS[name].title} emulator refused the fault (HTTP ${res.status}): ${errorText(res.json)}`,
    );
  }
}

/** `relay sandbox fault <emulator> <fault|clear> …`: 0 when set or cleared, 1 when the emulator refused, 2 on usage. */
export async function runSandboxFault(
  targets: SandboxTargets,
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const [emulator, ...rest] = args;
  if (!isSandboxEmulator(emulator)) {
    err.write(
      `usage: relay sandbox fault <${SANDBOX_EMULATORS.join('|')}> <fault|clear> [key=value ...] [--count N | --for 30s]\n`,
    );
    return 2;
  }
  const command = parseFaultCommand(emulator, rest);
  if (typeof command === 'string') {
    err.write(`${command}\n`);
    return 2;
  }
  const title = SANDBOX_FAULTS[emulator].title;
  try {
    if (command.kind === 'clear') {
      const res = await control(targets[emulator], emulator, 'DELETE', '/_sandbox/fault');
      if (res.status !== 204) throw new ControlError(`${title} emulator: HTTP ${res.status} ${errorText(res.json)}`);
      out.write(`${title}: faults cleared\n`);
      return 0;
    }
    await setSandboxFault(targets, emulator, command.body);
    const { forMs, ...fault } = command.body;
    const lasting =
      fault.times !== undefined
        ? `for the next ${fault.times} ${fault.times === 1 ? 'use' : 'uses'}`
        : forMs !== undefined
          ? `for ${formatMs(forMs)}`
          : 'until cleared';
    out.write(
      `${title}: fault ${describeFault(fault)} set ${lasting} (relay sandbox fault ${emulator} clear removes it)\n`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    err.write(`${e.message}\n`);
    return 1;
  }
}

function describeFault(fault: Record<string, unknown>): string {
  const options = Object.entries(fault)
    .filter(([k, v]) => k !== 'type' && k !== 'times' && k !== 'expiresAt' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [String(fault.type), ...options].join(' ');
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const faultStateSchema = z.object({
  fault: z.looseObject({ type: z.string() }).nullable(),
  remaining: z.number().nullable(),
  expiresAt: z.number().nullable().optional(),
});
const googleAdsStateSchema = z.object({
  request: z.looseObject({ type: z.string(), expiresAt: z.number().optional() }).nullable(),
  rows: z.array(z.looseObject({ type: z.string(), expiresAt: z.number().optional() })),
});

/** What is set on one emulator now, in a few words, or why it cannot be asked. */
async function currentFaults(targets: SandboxTargets, name: SandboxEmulatorName): Promise<string> {
  const target = targets[name];
  if ('missing' in target) return target.missing;
  let res;
  try {
    res = await control(target, name, 'GET', '/_sandbox/fault');
  } catch {
    return `not answering at ${target.url}`;
  }
  const left = (expiresAt: number | null | undefined) =>
    expiresAt ? `, ${formatMs(Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000) * 1000))} left` : '';
  if (name === 'google-ads') {
    const state = googleAdsStateSchema.safeParse(res.json);
    if (!state.success) return `at ${target.url}: unexpected answer`;
    const set = [state.data.request, ...state.data.rows].filter((f) => f !== null);
    const text = set.map(
      (f) => `${describeFault(f)}${typeof f.times === 'number' ? `, ${f.times} left` : ''}${left(f.expiresAt)}`,
    );
    return `at ${target.url}: ${text.length > 0 ? `set: ${text.join('; ')}` : 'no fault set'}`;
  }
  const state = faultStateSchema.safeParse(res.json);
  if (!state.success) return `at ${target.url}: unexpected answer`;
  const { fault, remaining, expiresAt } = state.data;
  if (!fault) return `at ${target.url}: no fault set`;
  return `at ${target.url}: set: ${describeFault(fault)}${remaining !== null ? `, ${remaining} left` : ''}${left(expiresAt)}`;
}

/** `relay sandbox faults`: every emulator's faults, one line each, and what is set now on the running ones. */
export async function runSandboxFaults(targets: SandboxTargets, out: NodeJS.WritableStream): Promise<number> {
  const states = await Promise.all(SANDBOX_EMULATORS.map((name) => currentFaults(targets, name)));
  const width = Math.max(
    ...SANDBOX_EMULATORS.flatMap((n) => Object.keys(SANDBOX_FAULTS[n].faults).map((f) => f.length)),
  );
  SANDBOX_EMULATORS.forEach((name, i) => {
    out.write(`${name} (${SANDBOX_FAULTS[name].title} emulator ${states[i]})\n`);
    for (const [fault, description] of Object.entries(SANDBOX_FAULTS[name].faults)) {
      out.write(`  ${fault.padEnd(width)}  ${description}\n`);
    }
    out.write('\n');
  });
  out.write(
    'usage: relay sandbox fault <emulator> <fault> [key=value ...] [--count N | --for 30s]\n' +
      '       relay sandbox fault <emulator> clear\n',
  );
  return 0;
}

const recordSchema = z.object({
  key: z.string(),
  enhanced: z.number(),
  attempts: z.number(),
  outcomes: z.record(z.string(), z.number()),
  lastOutcome: z.string(),
});
const summarySchema = z.object({
  total: z.number(),
  enhancedOnce: z.number(),
  enhancedMoreThanOnce: z.number(),
  neverEnhanced: z.number(),
  rowOutcomes: z.record(z.string(), z.number()),
  conversions: z.array(recordSchema),
});

export interface Cm360ConversionsOptions {
  reset: boolean;
  json: boolean;
  /** Exit 1 unless every conversion seen was enhanced exactly once. */
  exactlyOnce: boolean;
}

/** `relay sandbox cm360 conversions [reset] [--json] [--exactly-once]`: the CM360 emulator's record per conversion. */
export async function runCm360Conversions(
  targets: SandboxTargets,
  opts: Cm360ConversionsOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    if (opts.reset) {
      const res = await control(targets.cm360, 'cm360', 'POST', '/_sandbox/conversions/reset');
      if (res.status !== 204) throw new ControlError(`CM360 emulator: HTTP ${res.status} ${errorText(res.json)}`);
      out.write('CM360: conversion records reset\n');
      return 0;
    }
    const res = await control(targets.cm360, 'cm360', 'GET', '/_sandbox/conversions?rows=0');
    const summary = summarySchema.safeParse(res.json);
    if (res.status !== 200 || !summary.success) {
      throw new ControlError(`CM360 emulator: HTTP ${res.status} ${errorText(res.json)}`);
    }
    const s = summary.data;
    const verdict = s.total > 0 && s.enhancedOnce === s.total;
    if (opts.json) {
      out.write(`${JSON.stringify(res.json, null, 2)}\n`);
    } else {
      out.write(
        `CM360 emulator: ${s.total} ${s.total === 1 ? 'conversion' : 'conversions'} seen: ${s.enhancedOnce} enhanced exactly once, ` +
          `${s.enhancedMoreThanOnce} more than once, ${s.neverEnhanced} never\n`,
      );
      const outcomes = Object.entries(s.rowOutcomes);
      if (outcomes.length > 0) out.write(`rows: ${outcomes.map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      if (s.conversions.length > 0) {
        const rows = [
          ['CONVERSION (config-activity-ordinal)', 'ENHANCED', 'ROWS', 'LAST', 'OUTCOMES'],
          ...s.conversions.map((c) => [
            c.key,
            String(c.enhanced),
            String(c.attempts),
            c.lastOutcome,
            Object.entries(c.outcomes)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
          ]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
        out.write(
          `\n${rows
            .map((r) =>
              r
                .map((c, i) => c.padEnd(widths[i] ?? 0))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        );
      }
    }
    if (opts.exactlyOnce && !verdict) {
      err.write('not every conversion was enhanced exactly once\n');
      return 1;
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    err.write(`${e.message}\n`);
    return 1;
  }
}
