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
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';

export interface RelayActivityDeps {
  cm360: { batchers: Cm360Batchers; circuits?: OutageCircuits };
  hubspot: HubSpotActivityDeps;
  googleAds: { uploaders: GoogleAdsUploaders; circuits?: OutageCircuits };
  pendo: PendoActivityDeps;
  calls: CallActivityDeps;
  forms: FormPollDeps;
}

export interface RelayWorkerOptions extends RelayActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
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

export function createRelayWorker(opts: RelayWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: opts.dataConverter,
    activities: buildActivities(opts),
    // The Pendo import checkpoints its cursor in heartbeats: send them within a second, so a killed worker
    // costs at most a second of pages instead of the default throttle of up to a minute.
    maxHeartbeatThrottleInterval: '1s',
    // On SIGTERM the worker stops polling and lets running activities finish for the longest batch linger plus
    // one request (workerShutdownGraceMs: 30.2 s by default) before cancelling them, instead of the SDK's default
    // of 0 that cancels them at once. A row still queued at the cancel is withdrawn, never sent; the attempt is
    // retried by another worker. A container runtime must allow at least this long before its SIGKILL.
    shutdownGraceTime: workerShutdownGraceMs(opts.batchLingerMs ?? DEFAULT_BATCH_LINGER_MS),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
