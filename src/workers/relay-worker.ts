// The worker: every workflow of the relay and the activities built over injected clients.
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createCm360Activities, type Cm360Batchers } from '../activities/cm360';
import type { DataConverter } from '@temporalio/common';

export interface RelayWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataConverter: DataConverter;
  cm360: { batchers: Cm360Batchers };
  /** A prebuilt bundle (bundleWorkflowCode) skips webpack at start-up; tests share one per file. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export function buildActivities(opts: Pick<RelayWorkerOptions, 'cm360'>) {
  return { ...createCm360Activities(opts.cm360) };
}

export function createRelayWorker(opts: RelayWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    dataConverter: opts.dataConverter,
    activities: buildActivities(opts),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
