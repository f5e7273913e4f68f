// What Temporal stores, read as someone without the payload key would read it: failure messages are
// encrypted like payloads (`temporal workflow show` without the codec prints "Encoded failure"), the codec
// endpoint decrypts them only for an authorized caller, and a workflow started under a rotated-out key
// still completes under the new one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { createCm360Activities } from '../../src/activities/cm360';
import { buildApi } from '../../src/api/server';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import type { Cm360RowResult } from '../../src/domain/cm360/types';
import { payloadCodec, relayDataConverter, type PayloadKey } from '../../src/temporal/data-converter';
import {
  cm360EnhancementWorkflow,
  type Cm360EnhancementInput,
  type Cm360EnhancementResult,
} from '../../src/workflows/cm360-enhancement';
import { createDevServerEnv, createRelayTestWorkers, uniqueId } from '../helpers/temporal';

const EMAIL = 'jane.doe@example.com';
const CODEC_TOKEN = 'codec-token-for-the-privacy-test';
const OLD_KEY: PayloadKey = { id: 'relay-2025', key: Buffer.alloc(32, 21).toString('base64') };
const NEW_KEY: PayloadKey = { id: 'relay-2026', key: Buffer.alloc(32, 22).toString('base64') };

let env: TestWorkflowEnvironment;
let api: FastifyInstance;
let codecUrl: string;

before(async () => {
  env = await createDevServerEnv();
  api = buildApi({
    apiKey: 'privacy-api-key',
    maxBodyBytes: 1024 * 1024,
    cm360: { temporal: env.client, taskQueue: 'unused', profileId: '1', timing: DEFAULT_CM360_TIMING },
    codec: { codec: payloadCodec(NEW_KEY, [OLD_KEY]), corsOrigins: [], token: CODEC_TOKEN },
  });
  codecUrl = `${await api.listen({ port: 0, host: '127.0.0.1' })}/codec`;
});

after(async () => {
  await api?.close();
  await env?.teardown();
});

function input(): Cm360EnhancementInput {
  return {
    profileId: '4242',
    conversion: {
      matchId: 'm-1',
      ordinal: uniqueId('ord'),
      timestampMicros: String(BigInt(Date.now()) * 1000n),
      floodlightActivityId: '8888',
      floodlightConfigurationId: '99999',
      quantity: '1',
      value: 1,
      userIdentifiers: [{ hashedEmail: 'a'.repeat(64) }],
    },
    dropped: [],
    timing: { ...DEFAULT_CM360_TIMING, enhanceDelayMs: 0 },
  };
}

async function workerWith(keys: { current: PayloadKey; previous?: PayloadKey[] }, row: Cm360RowResult) {
  const taskQueue = uniqueId('privacy');
  const worker = await createRelayTestWorkers({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter: relayDataConverter(payloadCodec(keys.current, keys.previous)),
    activities: createCm360Activities({ batchers: { forProfile: () => ({ enhance: () => Promise.resolve(row) }) } }),
  });
  return { worker, taskQueue };
}

const clientWith = (current: PayloadKey, previous: PayloadKey[] = []) =>
  new Client({ connection: env.connection, dataConverter: relayDataConverter(payloadCodec(current, previous)) });

function temporalShow(workflowId: string, extra: string[] = []): Promise<string> {
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', env.address, '--output', 'json'];
  return new Promise((resolve, reject) => {
    execFile(temporalCliPath(), [...args, ...extra], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`temporal workflow show failed: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** The CLI's JSON with every payload's base64 `data` appended as text: what a reader of the output can see. */
function withPayloadsDecoded(json: string): string {
  const data = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64'));
  return `${json}\n${data.map((b) => b.toString('utf8')).join('\n')}`;
}

describe('failure messages in history', () => {
  let workflowId: string;

  before(async () => {
    const row: Cm360RowResult = { ok: false, errors: [{ code: 'INVALID_ARGUMENT', message: `bad user ${EMAIL}` }] };
    const { worker, taskQueue } = await workerWith({ current: NEW_KEY }, row);
    const client = clientWith(NEW_KEY);
    workflowId = uniqueId('cm360-privacy');
    const handle = await client.workflow.start(cm360EnhancementWorkflow, {
      workflowId,
      taskQueue,
      args: [input()],
    });
    const failure = await worker.runUntil(
      handle.result().then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    // Through the client (which holds the key) the message reads as the activity wrote it.
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(String(failure.cause?.message), new RegExp(EMAIL.replace('.', '\\.')));
  });

  test('`temporal workflow show` without the codec sees "Encoded failure", never the email', async () => {
    const shown = withPayloadsDecoded(await temporalShow(workflowId));
    assert.ok(shown.includes('Encoded failure'), 'the failure is encoded');
    assert.ok(!shown.includes(EMAIL), 'the email is not readable');
    assert.ok(!shown.includes('jane.doe'), 'no part of the email is readable');
  });

  test('with the codec endpoint and its token the CLI reads the message', async () => {
    const shown = await temporalShow(workflowId, [
      '--codec-endpoint',
      codecUrl,
      '--codec-auth',
      `Bearer ${CODEC_TOKEN}`,
    ]);
    assert.ok(!shown.includes(EMAIL), 'the CLI prints payloads as base64');
    assert.ok(withPayloadsDecoded(shown).includes(EMAIL), 'decoded through the codec');
  });

  test('the codec endpoint refuses a caller without the token', async () => {
    const body = JSON.stringify({ payloads: [] });
    for (const authorization of [undefined, 'Bearer wrong']) {
      const res = await fetch(`${codecUrl}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
      assert.equal(res.status, 401);
    }
  });
});

describe('payload key rotation', () => {
  test('a workflow started under the old key completes after the worker moved to the new one', async () => {
    const workflowId = uniqueId('cm360-rotation');
    const { worker, taskQueue } = await workerWith({ current: NEW_KEY, previous: [OLD_KEY] }, { ok: true });
    // Started before the rotation: its input is encrypted under the old key, and no worker has run it yet.
    const before = await clientWith(OLD_KEY).workflow.start(cm360EnhancementWorkflow, {
      workflowId,
      taskQueue,
      args: [input()],
    });
    const history = await before.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(started?.metadata?.['encryption-key-id'] ?? []).toString(), OLD_KEY.id);

    const after = clientWith(NEW_KEY, [OLD_KEY]).workflow.getHandle<typeof cm360EnhancementWorkflow>(workflowId);
    const result: Cm360EnhancementResult = await worker.runUntil(after.result());
    assert.equal(result.attempts, 1);
    // What the worker wrote after the rotation is under the new key.
    const events = (await after.fetchHistory()).events ?? [];
    const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes)
      ?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    assert.equal(Buffer.from(completed?.metadata?.['encryption-key-id'] ?? []).toString(), NEW_KEY.id);
    // A client holding only the old key can no longer read the result.
    await assert.rejects(clientWith(OLD_KEY).workflow.getHandle(workflowId).result(), /no payload key with id/);
  });
});
