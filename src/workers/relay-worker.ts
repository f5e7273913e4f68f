// The worker: every workflow of the relay and the activities built over injected clients.
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createCallActivities, type CallActivityDeps } from '../activities/calls';
import { createCm360Activities, type Cm360Batchers } from '../activities/cm360';
import { createGoogleAdsActivities, type GoogleAdsUploaders } from '../activities/google-ads';
import { createHubSpotActivities, type HubSpotActivityDeps } from '../activities/hubspot';
import { createPendoActivities, type PendoActivityDeps } from '../activities/pendo';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';

export interface RelayActivityDeps {
  cm360: { batchers: Cm360Batchers };
  hubspot: HubSpotActivityDeps;
  googleAds: { uploaders: GoogleAdsUploaders };
  pendo: PendoActivityDeps;
  calls: CallActivityDeps;
}

export interface RelayWorkerOptions extends RelayActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
  /** A prebuilt bundle (bundleWorkflowCode) skips webpack at start-up; tests share one per file. */
  workflowBundle?: WorkerOptions['workflowBundle'];
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
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
