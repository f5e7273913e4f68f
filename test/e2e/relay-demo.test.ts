// `relay demo` as a new user runs it: against the real `npm start` stack (a child process on free ports, with its
// own data directory), with a short CM360 index delay so every flow reaches its end inside the demo. The demo's
// own verdict is checked, and then, independently, what the emulators received and what Temporal recorded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { DemoReport } from '../../src/cli/demo';
import type { Cm360ConversionRecord } from '../../src/sandbox/cm360';
import { RelayReason, RelayStatus } from '../../src/workflows/search-attributes';
import { runRelay } from '../helpers/cli';
import { startRelayStack, type RelayStack } from '../helpers/npm-start';

describe('relay demo against npm start', () => {
  let stack: RelayStack;
  let report: DemoReport;
  let client: Client;

  before(async () => {
    stack = await startRelayStack({ env: { CM360_ENHANCE_DELAY: '5s' } });
    const connection = await Connection.connect({ address: stack.temporal.address });
    client = new Client({ connection, namespace: stack.temporal.namespace });
  });
  after(async () => {
    await client?.connection.close();
    await stack?.stop();
  });

  test('drives every flow: a plain success and a failure path each, every one ending as the demo says', async () => {
    const run = await runRelay(['demo', '--json', '--timeout', '3m'], stack.env);
    assert.equal(run.code, 0, `${run.stderr}\n${stack.output().slice(-3000)}`);
    report = JSON.parse(run.stdout) as DemoReport;
    assert.deepEqual(report.skipped, []);
    assert.equal(report.uiUrl, stack.temporal.uiUrl);

    const byFlow = (flow: string) => report.workflows.filter((w) => w.flow === flow);
    for (const [flow, n] of [
      ['cm360-enhancement', 2],
      ['hubspot-lifecycle-conversion', 2],
      ['hubspot-form-enhancement', 2],
      ['call-import', 1],
      ['pendo-import', 1],
    ] as const) {
      assert.equal(byFlow(flow).length, n, flow);
    }
    for (const w of report.workflows) {
      assert.equal(w.ok, true, `${w.workflowId}: ${w.outcome}`);
      assert.ok(w.url.startsWith(`${report.uiUrl}/namespaces/default/workflows/`), w.url);
      assert.ok(w.url.endsWith(`/${w.runId}/history`), w.url);
    }
    assert.ok(report.checks.length >= 5);
    for (const c of report.checks) assert.equal(c.ok, true, `${c.label}: ${c.detail}`);
    const invalid = report.checks.find((c) => c.label.includes('timestampMicros'));
    assert.equal(invalid?.status, 400);
    assert.match(invalid.detail, /timestampMicros/);
    const forged = report.checks.find((c) => c.label.includes('wrong client secret'));
    assert.equal(forged?.status, 401);
    assert.match(forged.detail, new RegExp(`${stack.apiUrl}/webhooks/hubspot`));
    assert.ok(report.queries.length >= 5);
    for (const q of report.queries) {
      assert.equal(q.url, `${report.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(q.query)}`);
    }
  });

  test('independently: Temporal recorded each outcome, and CM360 enhanced the good conversion exactly once', async () => {
    assert.ok(report, 'the demo ran');
    const outcome = async (id: string) => {
      const d = await client.workflow.getHandle(id).describe();
      return [d.status.name, d.typedSearchAttributes.get(RelayStatus), d.typedSearchAttributes.get(RelayReason)];
    };
    const [goodCm360, deniedCm360] = report.workflows.filter((w) => w.flow === 'cm360-enhancement');
    assert.deepEqual(await outcome(goodCm360!.workflowId), ['COMPLETED', undefined, undefined]);
    assert.deepEqual(await outcome(deniedCm360!.workflowId), ['FAILED', 'FAILED', 'Cm360PermissionDenied']);
    const [jane, ravi] = report.workflows.filter((w) => w.flow === 'hubspot-lifecycle-conversion');
    assert.deepEqual(await outcome(jane!.workflowId), ['COMPLETED', undefined, undefined]);
    assert.deepEqual(await outcome(ravi!.workflowId), ['COMPLETED', 'INELIGIBLE', 'NO_CONSENT']);
    const [tracked, untracked] = report.workflows.filter((w) => w.flow === 'hubspot-form-enhancement');
    assert.deepEqual(await outcome(tracked!.workflowId), ['COMPLETED', undefined, undefined]);
    assert.deepEqual(await outcome(untracked!.workflowId), [
      'FAILED',
      'FAILED',
      'conversion_adjustment_upload_error.CONVERSION_NOT_FOUND',
    ]);
    const calls = report.workflows.find((w) => w.flow === 'call-import')!;
    assert.deepEqual(await outcome(calls.workflowId), ['COMPLETED', 'COMPLETED_WITH_FAILURES', 'INVALID_ROWS']);
    const pendo = report.workflows.find((w) => w.flow === 'pendo-import')!;
    assert.deepEqual((await outcome(pendo.workflowId)).slice(0, 2), ['FAILED', 'COMPLETED_WITH_FAILURES']);

    const cm360 = stack.file.emulators.cm360!.controlUrl;
    const record = async (w: { workflowId: string }) => {
      const key = w.workflowId.replace(/^cm360-enhance-/, '');
      const res = await fetch(`${cm360}/_sandbox/conversions/${encodeURIComponent(key)}`);
      assert.equal(res.status, 200, key);
      return (await res.json()) as Cm360ConversionRecord;
    };
    const good = await record(goodCm360!);
    assert.equal(good.enhanced, 1);
    assert.equal(good.lastOutcome, 'ENHANCED');
    const denied = await record(deniedCm360!);
    assert.equal(denied.enhanced, 0);
    assert.equal(denied.attempts, 1, 'PERMISSION_DENIED is never retried');
    assert.equal(denied.lastOutcome, 'PERMISSION_DENIED');

    const pendoUrl = stack.file.emulators.pendo!.controlUrl;
    const visitor = (await (await fetch(`${pendoUrl}/_sandbox/visitor/values/demo-visitor-1001`)).json()) as Record<
      string,
      unknown
    >;
    assert.ok(Object.keys(visitor).length > 0, 'the demo visitor has metadata from HubSpot');
  });

  test('a second run starts new workflows (fresh ids) and ends as expected again', async () => {
    const run = await runRelay(['demo', '--json', '--timeout', '3m'], stack.env);
    assert.equal(run.code, 0, run.stderr);
    const second = JSON.parse(run.stdout) as DemoReport;
    const before = new Set(report.workflows.map((w) => w.workflowId));
    // Fresh ids: new ordinals, occurredAt and submission ids, new call times (the import id hashes the rows).
    for (const w of second.workflows) assert.ok(!before.has(w.workflowId), w.workflowId);
  });

  test('the api lets the Web UI of this stack (moved with TEMPORAL_ADDRESS) call the codec', async () => {
    const origin = stack.temporal.uiUrl;
    assert.notEqual(new URL(origin).port, '8233', 'the stack runs on free ports, not the defaults');
    const res = await fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });

  test('without a running stack: exit 1 saying to run npm start', async () => {
    const run = await runRelay(['demo'], { ...stack.env, RELAY_DATA_DIR: `${stack.dataDir}/nothing-here` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /run npm start first/);
  });
});
