#!/usr/bin/env node
// Runs every test layer with Node's built-in test runner (TypeScript through tsx).
// Usage: npm test [-- <layer|file> ...]   layers: unit, workflows, replay, e2e
import { spawnSync } from 'node:child_process';
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
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
