// The prebuilt workflow bundle: `npm run build` bundles the compiled workflows once (scripts/build-workflow-bundle.mjs),
// so a worker running the build (the Docker image) starts without webpack. Source runs (tsx, the tests) bundle as
// before: a bundle of old code must never serve new workflows.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowBundlePath } from '@temporalio/worker';

/** The bundle's file name, at the root of the compiled code (dist/workflow-bundle.js). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** Where the build writes the bundle for the compiled code under `root` (default: the tree this file is in). */
export function workflowBundlePath(root: string = join(__dirname, '..')): string {
  return join(root, WORKFLOW_BUNDLE_FILE);
}

function modifiedMs(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}

/**
 * The prebuilt bundle for the compiled workflows at `workflowsPath`, or undefined when the worker must bundle them
 * itself: running from source, no bundle written, or a bundle older than the compiled workflows (a `tsc` run
 * without the bundle step), which is named on stderr.
 */
export function prebuiltWorkflowBundle(
  workflowsPath: string,
  opts: { root?: string; warn?: (line: string) => void } = {},
): WorkflowBundlePath | undefined {
  if (!workflowsPath.endsWith('.js')) return undefined;
  const codePath = workflowBundlePath(opts.root);
  const bundled = modifiedMs(codePath);
  if (bundled === undefined) return undefined;
  const compiled = modifiedMs(workflowsPath);
  if (compiled !== undefined && bundled < compiled) {
    (opts.warn ?? console.warn)(`${codePath} is older than ${workflowsPath}: bundling the workflows at start instead`);
    return undefined;
  }
  return { codePath };
}
