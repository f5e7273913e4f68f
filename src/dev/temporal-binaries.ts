// Where the Temporal CLI and the time-skipping test server live: installed from PyPI into .temporal/bin
// by scripts/install-temporal.mjs (npm start and npm test run it first), or given by path.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = resolve(__dirname, '..', '..');

function find(envVar: string, name: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const local = join(projectRoot, '.temporal', 'bin', name);
  if (existsSync(local)) return local;
  throw new Error(
    `${name} not found: run 'node scripts/install-temporal.mjs' (npm start and npm test do) or set ${envVar}`,
  );
}

export const temporalCliPath = () => find('TEMPORAL_CLI_PATH', 'temporal');
export const temporalTestServerPath = () => find('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');
export { projectRoot };
