// For the browser test: `relay demo --json` against the `npm start` stack (test/helpers/npm-start.ts), and what
// Temporal itself says about a workflow (the Temporal CLI, decoding through the relay's codec), to compare the Web
// UI with. Every wait is on a condition, with a bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { waitFor } from '../chaos/stack';
import type { RelayStack } from '../helpers/npm-start';
import { RELAY_BIN, run } from '../helpers/cli';

const demoSchema = z.object({
  uiUrl: z.string().url(),
  namespace: z.string(),
  workflows: z
    .array(
      z.object({
        flow: z.string(),
        label: z.string(),
        workflowId: z.string(),
        url: z.string().url(),
        expected: z.string(),
        outcome: z.string(),
      }),
    )
    .min(1),
  queries: z.array(z.object({ label: z.string(), query: z.string(), url: z.string().url() })),
});
export type DemoOutput = z.infer<typeof demoSchema>;

/** `relay demo --json` against the stack: the JSON it prints, or an error saying exactly what went wrong. */
export async function runDemo(stack: RelayStack, timeoutMs = 210_000): Promise<DemoOutput> {
  const demo = await run(process.execPath, [RELAY_BIN, 'demo', '--json'], stack.env, timeoutMs);
  const said = `--- stdout:\n${demo.stdout}\n--- stderr:\n${demo.stderr}`;
  if (demo.code !== 0) throw new Error(`relay demo --json failed (exit ${demo.code})\n${said}`);
  let json: unknown;
  try {
    json = JSON.parse(demo.stdout);
  } catch (err) {
    throw new Error(`relay demo --json printed no single JSON object on stdout (${String(err)})\n${said}`);
  }
  const parsed = demoSchema.safeParse(json);
  if (!parsed.success) throw new Error(`relay demo --json: unexpected shape: ${parsed.error.message}\n${said}`);
  return parsed.data;
}

/** The Temporal CLI against the stack's server, decoding payloads through the api's codec (not the UI's path). */
async function temporalCli(stack: RelayStack, args: string[]): Promise<unknown> {
  const codecToken = readFileSync(join(stack.dataDir, 'codec-token'), 'utf8').trim();
  const cli = await run(
    temporalCliPath(),
    [
      ...args,
      '--address',
      stack.temporal.address,
      '--namespace',
      stack.temporal.namespace,
      '--codec-endpoint',
      `${stack.apiUrl}/codec`,
      '--codec-auth',
      `Bearer ${codecToken}`,
      '--output',
      'json',
    ],
    { PATH: process.env.PATH, HOME: process.env.HOME },
    30_000,
  );
  if (cli.code !== 0) throw new Error(`temporal ${args.join(' ')} failed (${cli.code}): ${cli.stderr}${cli.stdout}`);
  return JSON.parse(cli.stdout);
}

const payloadSchema = z.object({ metadata: z.record(z.string(), z.string()), data: z.string().optional() });
const startedEventSchema = z.object({
  userMetadata: z.object({ summary: payloadSchema.optional() }).optional(),
  workflowExecutionStartedEventAttributes: z.object({
    input: z.object({ payloads: z.array(payloadSchema).min(1) }),
  }),
});

/** A decoded payload's value: decoding must have left plain JSON, else the codec did not do its work. */
function jsonOf(payload: z.infer<typeof payloadSchema>, what: string): unknown {
  const encoding = Buffer.from(payload.metadata.encoding ?? '', 'base64').toString('utf8');
  if (encoding !== 'json/plain') throw new Error(`${what} is still ${encoding} after decoding through the codec`);
  return JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8'));
}

export interface WorkflowTruth {
  /** The workflow's first argument, decoded. */
  input: unknown;
  /** Its user-metadata summary, decoded. */
  summary: string | undefined;
}

/** What the workflow's history holds, decoded by the Temporal CLI through the relay's codec. */
export async function workflowTruth(stack: RelayStack, workflowId: string): Promise<WorkflowTruth> {
  const history = (await temporalCli(stack, ['workflow', 'show', '--workflow-id', workflowId])) as {
    events?: unknown[];
  };
  const parsed = startedEventSchema.safeParse(history.events?.[0]);
  if (!parsed.success) {
    throw new Error(`the history of ${workflowId} does not start as expected: ${parsed.error.message}`);
  }
  const started = parsed.data;
  const summary = started.userMetadata?.summary;
  return {
    input: jsonOf(started.workflowExecutionStartedEventAttributes.input.payloads[0]!, 'the input'),
    summary: summary ? String(jsonOf(summary, 'the summary')) : undefined,
  };
}

/** The result of a query of the workflow, through the Temporal CLI (retried until the worker has answered). */
export async function queryThroughTemporal(stack: RelayStack, workflowId: string, name: string): Promise<unknown> {
  return waitFor(
    `the ${name} query of ${workflowId} through the Temporal CLI`,
    async () => {
      const answer = z
        .object({ queryResult: z.array(z.unknown()).min(1) })
        .parse(await temporalCli(stack, ['workflow', 'query', '--workflow-id', workflowId, '--name', name]));
      return answer.queryResult[0];
    },
    { timeoutMs: 60_000, everyMs: 500 },
  );
}
