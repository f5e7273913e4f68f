// The `relay` binary as a user runs it, as a child process. Asynchronous on purpose: the e2e tests run the api
// and the worker in the test's own process, which a synchronous spawn would freeze.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const RELAY_BIN = join(__dirname, '..', '..', 'bin', 'relay.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runRelay(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RELAY_BIN, ...args], { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
