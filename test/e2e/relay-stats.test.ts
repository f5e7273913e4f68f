// `relay stats` against a dev server: per flow, the workflows started by execution status, the plain ones, and
// the others by RelayStatus / RelayReason, read from visibility alone (no worker runs here: what is started stays
// running, and one is terminated).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FlowStats } from '../../src/cli/stats';
import { RelayFlow, RelayReason, RelayStatus } from '../../src/workflows/search-attributes';
import { runRelay } from '../helpers/cli';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createDevServerEnv();
});
after(async () => {
  await env?.teardown();
});

describe('relay stats', () => {
  test('counts by flow and execution status, and lists the non-plain ones by RelayStatus / RelayReason', async () => {
    const taskQueue = uniqueId('stats');
    const start = (flow: string, status?: string, reason?: string) =>
      env.client.workflow.start('cm360EnhancementWorkflow', {
        taskQueue,
        workflowId: uniqueId('stats-wf'),
        typedSearchAttributes: [
          { key: RelayFlow, value: flow },
          ...(status ? [{ key: RelayStatus, value: status }] : []),
          ...(reason ? [{ key: RelayReason, value: reason }] : []),
        ],
      });
    await start('cm360-enhancement');
    await start('cm360-enhancement', 'WAITING_FOR_CREDENTIALS', 'Cm360AuthError');
    const failed = await start('cm360-enhancement', 'FAILED', 'Cm360InvalidArgument');
    await failed.terminate('test');
    await start('hubspot-lifecycle-conversion', 'WAITING_TO_RETRY', 'TOO_RECENT_EVENT');
    const relayEnv = { PATH: process.env.PATH, TEMPORAL_ADDRESS: env.address };
    // Visibility is eventually consistent: wait until every start is counted.
    let stats: FlowStats[] = [];
    for (let i = 0; i < 100; i++) {
      const run = await runRelay(['stats', '--since', '1h', '--json'], relayEnv);
      assert.equal(run.code, 0, run.stderr);
      stats = JSON.parse(run.stdout) as FlowStats[];
      const cm360 = stats.find((s) => s.flow === 'cm360-enhancement');
      if (cm360?.total === 3 && cm360.byExecutionStatus.Terminated === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const cm360 = stats.find((s) => s.flow === 'cm360-enhancement');
    assert.deepEqual(cm360?.byExecutionStatus, { Running: 2, Terminated: 1 });
    assert.equal(cm360?.plain, 0);
    assert.deepEqual(cm360?.byRelayStatus, {
      'WAITING_FOR_CREDENTIALS / Cm360AuthError': 1,
      'FAILED / Cm360InvalidArgument': 1,
    });
    assert.deepEqual(stats.find((s) => s.flow === 'hubspot-lifecycle-conversion')?.byRelayStatus, {
      'WAITING_TO_RETRY / TOO_RECENT_EVENT': 1,
    });
    assert.equal(stats.find((s) => s.flow === 'pendo-import')?.total, 0);

    const table = await runRelay(['stats', '--since', '1h'], relayEnv);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^cm360-enhancement\s+3\s+0\s+2\s+0\s+0\s+0\s+1\s+0\s+0$/m);
    assert.match(table.stdout, /^\s+1\s+FAILED \/ Cm360InvalidArgument$/m);
    assert.doesNotMatch(table.stdout, /^pendo-import/m, 'flows with nothing started are left out');
    assert.equal((await runRelay(['stats', '--since', 'soon'], relayEnv)).code, 2);
  });
});
