#!/usr/bin/env node
// Runs every test layer with Node's built-in test runner (TypeScript through tsx).
// Usage: npm test [-- <layer|file> ...]   layers: unit, workflows, replay, e2e
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const layers = ['unit', 'workflows', 'replay', 'e2e'];

function testFiles(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const args = process.argv.slice(2);
const selected = args.length > 0 ? args : layers;
// A folder stands for the test files under it: handed to `node --test` as is, Node 20 finds no .ts file in it
// and passes with nothing run.
const filesOf = (a) => {
  if (layers.includes(a)) return testFiles(join(root, 'test', a));
  const path = resolve(a);
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ? testFiles(path) : [path];
};
const empty = selected.filter((a) => filesOf(a).length === 0);
if (empty.length > 0) {
  console.error(`no test files for: ${empty.join(' ')}`);
  process.exit(1);
}
const files = selected.flatMap(filesOf);
// A test that hangs fails after TEST_TIMEOUT_MS and the run goes on; a run that hangs anyway (a file whose
// teardown never ends) is killed, with everything it started, after RUN_TIMEOUT_MS: CI gets a red run that
// names the hang instead of waiting out its own limit.
const minutes = (name, fallback) => Number(process.env[name] ?? fallback) * 60_000;
const TEST_TIMEOUT_MS = minutes('TEST_TIMEOUT_MINUTES', 5);
const RUN_TIMEOUT_MS = minutes('TEST_RUN_TIMEOUT_MINUTES', 30);
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' }, detached: true },
);
const killAll = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
const watchdog = setTimeout(() => {
  console.error(`\nnpm test: still running after ${RUN_TIMEOUT_MS / 60_000} minutes; killing the run`);
  killAll('SIGKILL');
}, RUN_TIMEOUT_MS);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => killAll(signal));
child.on('exit', (code, signal) => {
  clearTimeout(watchdog);
  // Test files' own children (Temporal servers, emulators) go with the run.
  killAll('SIGKILL');
  process.exit(code ?? (signal ? 1 : 0));
});
