// What every relay schedule's apply does the same way: create the schedule, update it when what it should be
// changed (compared through its note: the server rewrites specs, so the note is the one faithful copy), or pause
// it when the config no longer asks for it. An operator's own pause stays; the relay's pause ends on apply.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged' | 'paused' | 'absent';

export async function describeSchedule(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * `desired` is the schedule as the config asks for it (spec, action, policies) and its note; undefined pauses
 * an existing schedule with `pausedNote` (nothing is deleted).
 */
export async function applySchedule(
  client: Client,
  id: string,
  desired: { body: Omit<ScheduleOptions, 'scheduleId' | 'state'>; note: string } | undefined,
  pausedNote: string,
): Promise<ApplyOutcome> {
  const existing = await describeSchedule(client, id);
  const handle = client.schedule.getHandle(id);
  if (!desired) {
    if (!existing) return 'absent';
    if (existing.state.paused) return 'unchanged';
    await handle.pause(pausedNote);
    return 'paused';
  }
  const { body, note } = desired;
  if (!existing) {
    try {
      await client.schedule.create({ scheduleId: id, ...body, state: { note } });
      return 'created';
    } catch (err) {
      // Another process applied it at the same moment: compare with what it wrote.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      return applySchedule(client, id, desired, pausedNote);
    }
  }
  const wasPausedByUs = existing.state.paused && existing.state.note === pausedNote;
  if (existing.state.note === note && !wasPausedByUs) return 'unchanged';
  const paused = existing.state.paused && !wasPausedByUs;
  await handle.update(() => ({ ...body, state: { note, paused } }));
  return 'updated';
}
