// The nightly Pendo schedule on the Temporal CLI dev server (the time-skipping server has no schedules): the
// cron in the subscription's zone, every planned start inside the window, SKIP overlap, an explicit catch-up
// window, and an apply that is idempotent, follows a changed zone or window, and pauses without the section.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { formatInZone } from '../../src/domain/time-zones';
import { applyPendoSchedule, describePendoSchedule, PENDO_SCHEDULE_ID } from '../../src/schedules/pendo-import';
import { pendoImportStatusQuery, type pendoImportWorkflow } from '../../src/workflows/pendo-import';
import { pendoActivities, pendoConfig, startPendoParts, type PendoParts } from '../helpers/pendo';
import { createDevServerEnv, testDataConverter, uniqueId, workflowBundle } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let parts: PendoParts;
const taskQueue = uniqueId('pendo-schedule');

before(async () => {
  env = await createDevServerEnv();
  parts = await startPendoParts();
});
after(async () => {
  await parts?.close();
  await env?.teardown();
});

const config = (timeZone: string, window = '00:00-06:00', jitter?: string) =>
  pendoConfig(`
pendo:
  timeZone: ${timeZone}
  window: '${window}'
  ${jitter ? `jitter: ${jitter}` : ''}
  visitor: { idProperty: pendo_visitor_id, properties: [lifecyclestage] }
`);

/** Minutes after local midnight of an instant, in a zone. */
const localMinute = (d: Date, zone: string) => {
  const [h, m] = formatInZone(d.getTime(), zone).slice(11, 16).split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

describe('the Pendo schedule', () => {
  test('created with the cron in the zone, SKIP, catch-up and jitter; every planned start inside the window', async () => {
    assert.equal(await applyPendoSchedule(env.client, { taskQueue, config: config('Asia/Tokyo') }), 'created');
    const d = await env.client.schedule.getHandle(PENDO_SCHEDULE_ID).describe();
    assert.equal(d.spec.timezone, 'Asia/Tokyo');
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(d.policies.catchupWindow, 5.5 * 3_600_000);
    assert.equal(d.spec.jitter, 30 * 60_000);
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.type === 'startWorkflow' ? d.action.workflowType : '', 'pendoImportWorkflow');
    assert.equal(d.action.type === 'startWorkflow' ? d.action.workflowId : '', 'pendo-import');
    const next = d.info.nextActionTimes;
    assert.ok(next.length >= 5, `planned starts: ${next.length}`);
    for (const t of next) {
      const minute = localMinute(t, 'Asia/Tokyo');
      assert.ok(minute >= 0 && minute < 30, `${formatInZone(t.getTime(), 'Asia/Tokyo')} lies in 00:00–00:30`);
    }
    // One a night: consecutive starts are about a day apart.
    const gaps = next.slice(1).map((t, i) => (t.getTime() - (next[i]?.getTime() ?? 0)) / 3_600_000);
    assert.ok(
      gaps.every((h) => h > 23 && h < 25),
      JSON.stringify(gaps),
    );
  });

  test('applying the same config again changes nothing; a new zone or window updates the one schedule', async () => {
    assert.equal(await applyPendoSchedule(env.client, { taskQueue, config: config('Asia/Tokyo') }), 'unchanged');
    assert.equal(
      await applyPendoSchedule(env.client, { taskQueue, config: config('Europe/Oslo', '01:30-05:00', '1h') }),
      'updated',
    );
    const info = await describePendoSchedule(env.client);
    for (const t of info?.nextStarts ?? []) {
      const minute = localMinute(t, 'Europe/Oslo');
      assert.ok(minute >= 90 && minute < 150, formatInZone(t.getTime(), 'Europe/Oslo'));
    }
    assert.match(info?.note ?? '', /Europe\/Oslo window 01:30-05:00/);
    const all: string[] = [];
    for await (const s of env.client.schedule.list()) all.push(s.scheduleId);
    assert.deepEqual(
      all.filter((id) => id.startsWith('pendo-import')),
      [PENDO_SCHEDULE_ID],
      'nothing duplicated',
    );
    assert.equal(
      await applyPendoSchedule(env.client, { taskQueue, config: config('Europe/Oslo', '01:30-05:00', '1h') }),
      'unchanged',
    );
  });

  test('without a pendo section the schedule is paused, and un-paused when the section returns', async () => {
    assert.equal(await applyPendoSchedule(env.client, { taskQueue }), 'paused');
    assert.equal((await describePendoSchedule(env.client))?.paused, true);
    assert.equal(await applyPendoSchedule(env.client, { taskQueue }), 'unchanged');
    assert.equal(await applyPendoSchedule(env.client, { taskQueue, config: config('Asia/Tokyo') }), 'updated');
    assert.equal((await describePendoSchedule(env.client))?.paused, false);
  });

  test("a scheduled run gets the schedule's id with its time, and SKIP refuses a second one while it runs", async () => {
    // The first chunk waits until the test has tried to start a second run.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const activities = pendoActivities(parts, { config: config('Asia/Tokyo') });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: testDataConverter(),
      activities: {
        ...activities,
        planPendoImport: async () => {
          await gate;
          return activities.planPendoImport();
        },
      },
    });
    await worker.runUntil(async () => {
      const schedule = env.client.schedule.getHandle(PENDO_SCHEDULE_ID);
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      let running: string | undefined;
      for (let i = 0; i < 200 && !running; i++) {
        const d = await schedule.describe();
        running = d.info.runningActions[0]?.workflow.workflowId;
        if (!running) await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(running ?? '', /^pendo-import-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      await schedule.trigger(ScheduleOverlapPolicy.SKIP);
      let skipped = 0;
      for (let i = 0; i < 200 && skipped === 0; i++) {
        skipped = (await schedule.describe()).info.numActionsSkippedOverlap;
        if (skipped === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(skipped, 1);
      release();
      const handle = env.client.workflow.getHandle<typeof pendoImportWorkflow>(running ?? '');
      const result = await handle.result();
      assert.equal(result.outcome, 'COMPLETED');
      assert.equal((await handle.query(pendoImportStatusQuery)).trigger, 'schedule');
    });
  });
});
