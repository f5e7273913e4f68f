#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: bundles the compiled workflows once, with the worker's own bundle options
// (WORKFLOW_BUNDLE_OPTIONS), into <dist>/workflow-bundle.js, which the compiled worker then loads instead of
// running webpack at every start (src/workers/workflow-bundle.ts).
// Usage: node scripts/build-workflow-bundle.mjs [dist folder, default dist]
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, process.argv[2] ?? 'dist');
const require = createRequire(import.meta.url);
const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { WORKFLOW_BUNDLE_OPTIONS } = require(join(dist, 'workers', 'relay-worker.js'));
const { workflowBundlePath } = require(join(dist, 'workers', 'workflow-bundle.js'));

const started = Date.now();
const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
const out = workflowBundlePath(dist);
writeFileSync(out, code);
const kb = Math.round(Buffer.byteLength(code) / 1024);
console.log(`workflow bundle: ${relative(root, out)} (${kb} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
