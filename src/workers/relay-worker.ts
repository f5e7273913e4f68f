// The worker: every workflow of the relay and the activities built over injected clients.
import type { OutageCircuits } from '../clients/shared/circuit';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createCallActivities, type CallActivityDeps } from '../activities/calls';
import { createCm360Activities, type Cm360Batchers } from '../activities/cm360';
import { createGoogleAdsActivities, type GoogleAdsUploaders } from '../activities/google-ads';
import { createHubSpotActivities, type HubSpotActivityDeps } from '../activities/hubspot';
import { createFormPollActivities, type FormPollDeps } from '../activities/hubspot-forms';
import { createPendoActivities, type PendoActivityDeps } from '../activities/pendo';
import { DEFAULT_BATCH_LINGER_MS, workerShutdownGraceMs } from '../domain/activity-timing';
import { uploadTaskQueue } from '../domain/task-queues';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';
import { prebuiltWorkflowBundle } from './workflow-bundle';

export interface RelayActivityDeps {
  cm360: { batchers: Cm360Batchers; circuits?: OutageCircuits };
  hubspot: HubSpotActivityDeps;
  googleAds: { uploaders: GoogleAdsUploaders; circuits?: OutageCircuits };
  pendo: PendoActivityDeps;
  calls: CallActivityDeps;
  forms: FormPollDeps;
}

/** What a process serves: the workflows (and their other activities), the vendor uploads, or both. */
export type RelayWorkerRole = 'workflows' | 'uploads';

export interface RelayWorkerOptions extends RelayActivityDeps {
  connection: NativeConnection;
  namespace: string;
  /** The workflows' task queue; the uploads are on uploadTaskQueue(taskQueue). */
  taskQueue: string;
  /** Default both. */
  roles?: readonly RelayWorkerRole[];
  /**
   * Uploads that may wait in this process's batchers at once (RELAY_UPLOAD_SLOTS): each holds an activity slot
   * while its row waits, so this bounds how full a request can get under a burst. Default DEFAULT_UPLOAD_SLOTS.
   */
  uploadSlots?: number;
  /** The uploads worker's identity, which the quota share counts (uploaderIdentity()). */
  uploadIdentity?: string;
  dataConverter: DataConverter;
  /** A prebuilt bundle (bundleWorkflowCode) skips webpack at start-up; tests share one per file. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * The longest linger of the batchers the activities send through (CM360_BATCH_LINGER, GOOGLE_ADS_BATCH_LINGER);
   * default DEFAULT_BATCH_LINGER_MS, both variables' default. Sets the shutdown grace (see createRelayWorker).
   */
  batchLingerMs?: number;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** The activities that send rows to a vendor through a batcher: the uploads task queue serves them. */
export const UPLOAD_ACTIVITIES = [
  'enhanceCm360Conversion',
  'uploadClickConversion',
  'uploadEnhancement',
  'uploadCallConversions',
] as const;
const isUploadActivity = (name: string) => (UPLOAD_ACTIVITIES as readonly string[]).includes(name);

/**
 * Enough waiting uploads for ten full CM360 requests (1,000 rows) or five Google Ads ones (2,000) in one process;
 * a waiting upload costs a few kilobytes and no CPU.
 */
export const DEFAULT_UPLOAD_SLOTS = 10_000;

/**
 * The workers of one process, run and stopped together: the workflow worker and the uploads worker (either may
 * be left out by its role). `runUntil` has Worker.runUntil's meaning for the lot.
 */
export class RelayWorkers {
  constructor(readonly workers: { workflows?: Worker; uploads?: Worker }) {}

  private get all(): Worker[] {
    return [this.workers.workflows, this.workers.uploads].filter((w): w is Worker => w !== undefined);
  }

  /** RUNNING only when every worker is. */
  getState(): string {
    const states = this.all.map((w) => w.getState());
    return states.find((s) => s !== 'RUNNING') ?? 'RUNNING';
  }

  /** Runs every worker; when one stops or fails, the others are shut down too, and the first failure is thrown. */
  async run(): Promise<void> {
    const runs = this.all.map((w) =>
      w.run().finally(() => {
        this.shutdown();
      }),
    );
    const results = await Promise.allSettled(runs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    for (const w of this.all) if (w.getState() === 'RUNNING') w.shutdown();
  }

  runUntil<R>(fnOrPromise: Promise<R> | (() => Promise<R>)): Promise<R> {
    const [first, ...rest] = this.all;
    if (!first) throw new Error('no worker to run');
    return rest.reduce<() => Promise<R>>(
      (inner, w) => () => w.runUntil(inner),
      () => first.runUntil(fnOrPromise),
    )();
  }
}

/** What a prebuilt bundle (bundleWorkflowCode) of the relay's workflows needs: the code and its failure converter. */
export const WORKFLOW_BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH };

export function buildActivities(deps: RelayActivityDeps) {
  return {
    ...createCm360Activities(deps.cm360),
    ...createHubSpotActivities(deps.hubspot),
    ...createGoogleAdsActivities(deps.googleAds),
    ...createPendoActivities(deps.pendo),
    ...createCallActivities(deps.calls),
    ...createFormPollActivities(deps.forms),
  };
}

export async function createRelayWorker(opts: RelayWorkerOptions): Promise<RelayWorkers> {
  const roles = opts.roles ?? ['workflows', 'uploads'];
  const activities = buildActivities(opts);
  const shutdownGraceTime = workerShutdownGraceMs(opts.batchLingerMs ?? DEFAULT_BATCH_LINGER_MS);
  const workflows = roles.includes('workflows') ? await createWorkflowWorker(opts, activities) : undefined;
  const uploads = roles.includes('uploads')
    ? await Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: uploadTaskQueue(opts.taskQueue),
        dataConverter: opts.dataConverter,
        activities: Object.fromEntries(Object.entries(activities).filter(([name]) => isUploadActivity(name))),
        ...(opts.uploadIdentity ? { identity: opts.uploadIdentity } : {}),
        // Every waiting row holds a slot: a batch can only be as full as the slots allow.
        maxConcurrentActivityTaskExecutions: opts.uploadSlots ?? DEFAULT_UPLOAD_SLOTS,
        // A burst of thousands of due uploads is taken from the queue by several polls at once.
        activityTaskPollerBehavior: { type: 'autoscaling', minimum: 2, maximum: 20, initial: 5 },
        shutdownGraceTime,
      })
    : undefined;
  return new RelayWorkers({ workflows, uploads });
}

function createWorkflowWorker(opts: RelayWorkerOptions, activities: ReturnType<typeof buildActivities>) {
  // The compiled relay (the Docker image) brings the bundle `npm run build` wrote: no webpack at start.
  const bundle = opts.workflowBundle ?? prebuiltWorkflowBundle(WORKFLOWS_PATH);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: opts.dataConverter,
    // Every activity, uploads included: an upload scheduled on this queue before uploads had their own still runs.
    activities,
    // The Pendo import checkpoints its cursor in heartbeats: send them within a second, so a killed worker
    // costs at most a second of pages instead of the default throttle of up to a minute.
    maxHeartbeatThrottleInterval: '1s',
    // On SIGTERM the worker stops polling and lets running activities finish for the longest batch linger plus
    // one request (workerShutdownGraceMs: 45 s by default) before cancelling them, instead of the SDK's default
    // of 0 that cancels them at once. A row still queued at the cancel is withdrawn, never sent; the attempt is
    // retried by another worker. A container runtime must allow at least this long before its SIGKILL.
    shutdownGraceTime: workerShutdownGraceMs(opts.batchLingerMs ?? DEFAULT_BATCH_LINGER_MS),
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
