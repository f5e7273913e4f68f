// Negative control for replay: the enhancement workflow with its first two commands swapped (it
// enhances before waiting). Replaying a real history against it must raise a determinism violation.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Cm360Activities } from '../../../src/activities/cm360';
import type { Cm360EnhancementInput } from '../../../src/workflows/cm360-enhancement';

export async function cm360EnhancementWorkflow(input: Cm360EnhancementInput): Promise<void> {
  const { enhanceCm360Conversion } = proxyActivities<Cm360Activities>({ startToCloseTimeout: '5m' });
  await enhanceCm360Conversion({ profileId: input.profileId, conversion: input.conversion });
  await sleep(input.timing.enhanceDelayMs);
}
