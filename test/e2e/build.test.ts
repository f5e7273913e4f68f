// What `npm run build` makes runs on its own, as in the Docker image: tsc's output with the prebuilt workflow
// bundle, which the compiled worker finds and which replays the recorded histories; the compiled CLI starts
// without tsx and needs no dev dependency. Built into a folder of its own, so dist/ is left alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type * as BundleModule from '../../src/workers/workflow-bundle';
import { testDataConverter } from '../helpers/temporal';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const out = join(root, 'node_modules', '.cache', `relay-build-test-${process.pid}`);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

const compiled = <T>(path: string) => import(join(out, path)) as Promise<T>;

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsFiles(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

/** One recorded history of each workflow type: enough to prove the bundle holds every workflow. */
function oneHistoryPerType() {
  const dir = join(root, 'test', 'replay', 'histories');
  const byType = new Map<string, { workflowId: string; history: ReturnType<typeof historyFromJSON> }>();
  for (const f of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { workflowId: string; history: unknown };
    const history = historyFromJSON(raw.history);
    const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';
    if (!byType.has(type)) byType.set(type, { workflowId: raw.workflowId, history });
  }
  return [...byType.values()];
}

describe('the build', () => {
  before(async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: root });
    await run(process.execPath, ['scripts/build-workflow-bundle.mjs', out], { cwd: root });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('the compiled worker finds the prebuilt bundle, and not a stale one', async () => {
    const { prebuiltWorkflowBundle, workflowBundlePath } =
      await compiled<typeof BundleModule>('workers/workflow-bundle.js');
    const workflows = require.resolve(join(out, 'workflows'));
    assert.deepEqual(prebuiltWorkflowBundle(workflows), { codePath: join(out, 'workflow-bundle.js') });
    // Source runs bundle for themselves.
    assert.equal(prebuiltWorkflowBundle(require.resolve('../../src/workflows')), undefined);
    const warnings: string[] = [];
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(workflowBundlePath(out), old, old);
    try {
      assert.equal(prebuiltWorkflowBundle(workflows, { warn: (l) => warnings.push(l) }), undefined);
      assert.match(warnings.join('\n'), /is older than/);
    } finally {
      const now = new Date();
      utimesSync(workflowBundlePath(out), now, now);
    }
  });

  test('the prebuilt bundle replays a recorded history of every workflow type', async () => {
    const histories = oneHistoryPerType();
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: join(out, 'workflow-bundle.js') }, dataConverter: testDataConverter() },
      histories,
    );
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, histories.length);
  });

  test('the compiled CLI runs without tsx', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'cli', 'main.js'), '--help'], { cwd: root });
    assert.match(stdout, /usage: relay <command>/);
  });

  test('the compiled code requires production dependencies only', () => {
    const needed = new Set<string>();
    for (const file of jsFiles(out)) {
      if (file.endsWith('workflow-bundle.js')) continue;
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
        if (!spec || spec.startsWith('node:')) continue;
        const parts = spec.split('/');
        needed.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
      }
    }
    const builtin = new Set(builtinModules);
    const missing = [...needed].filter((p) => !builtin.has(p) && !(p in pkg.dependencies));
    assert.deepEqual(missing, [], `required by ${relative(root, out)} but not a dependency`);
  });
});
