// Replays committed histories of real runs against today's workflow code: a change that would break
// running workflows fails here. Record new histories with test/replay/record-histories.ts.
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import * as workflows from '../../src/workflows';
import { testDataConverter, workflowBundle } from '../helpers/temporal';

const dir = join(__dirname, 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The outcomes a workflow change is most likely to break, one recorded run each. */
const REQUIRED = [
  'cm360-enhanced-first-attempt',
  'cm360-not-found-then-enhanced',
  'cm360-transient-errors-then-enhanced',
  'cm360-invalid-argument',
  'cm360-not-found-window-expired',
  'cm360-deadline-exceeded',
  'lifecycle-uploaded',
  'lifecycle-ineligible-disabled',
  'lifecycle-ineligible-no-consent',
  'lifecycle-too-recent-then-uploaded',
  'lifecycle-permanent-failure',
  'form-enhanced',
  'form-manager-not-sent',
  'form-deadline-exceeded',
  'form-transient-until-deadline',
  'pendo-completed',
  'pendo-completed-with-failures',
  'pendo-continued-as-new',
  'pendo-continued-as-new-last-run',
  'pendo-chunk-retried-after-409',
  'pendo-skipped-already-running',
  'call-import-completed',
  'call-import-completed-with-failures',
  'call-import-completed-uncancelled-timers',
  'call-import-waited-hourly-checks',
  'call-import-part-too-recent-then-uploaded',
  'call-import-part-partial-failures',
  'calls-pull-imported',
  'calls-pull-nothing-new',
  'form-poll-started',
  'form-poll-nothing-new',
  // After PLAIN_PATH_UNINDEXED (and with uploads on their own task queue).
  'cm360-enhanced-first-attempt-unindexed',
  'cm360-not-found-then-enhanced-unindexed',
  'lifecycle-uploaded-unindexed',
  'lifecycle-ineligible-disabled-unindexed',
  'form-enhanced-unindexed',
  'form-too-recent-then-already-enhanced-unindexed',
];

function histories() {
  return files.map((f) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      workflowId: string;
      history: unknown;
    };
    return { workflowId, history: historyFromJSON(history) };
  });
}

const workflowType = (h: ReturnType<typeof histories>[number]) =>
  h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';

describe('replay of recorded histories', () => {
  test('there are histories for every outcome that matters, of every workflow type', () => {
    const missing = REQUIRED.filter((name) => !files.includes(`${name}.json`));
    assert.deepEqual(missing, [], `record them with test/replay/record-histories.ts`);
    const recorded = new Set(histories().map(workflowType));
    for (const type of Object.keys(workflows)) assert.ok(recorded.has(type), `no history of ${type}`);
  });

  test("today's workflow code replays every recorded history", async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), dataConverter: testDataConverter() },
      histories(),
    );
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, files.length);
  });

  test('negative control: reordered workflow code raises a determinism violation on every history', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./nondeterministic'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: new DefaultLogger('WARN'),
    });
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, dataConverter: testDataConverter() },
      histories(),
    );
    const notViolated: string[] = [];
    let replayed = 0;
    for await (const r of results) {
      replayed += 1;
      if (!(r.error instanceof DeterminismViolationError)) notViolated.push(`${r.workflowId}: ${String(r.error)}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(notViolated, []);
  });
});
