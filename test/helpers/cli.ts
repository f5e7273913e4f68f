// The `relay` binary as a user runs it, as a child process. Asynchronous on purpose: the e2e tests run the api
// and the worker in the test's own process, which a synchronous spawn would freeze.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const RELAY_BIN = join(__dirname, '..', '..', 'bin', 'relay.js');

export interface CliRun {
  /** The exit code, or how it was killed. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** A command, asynchronously (the test's own process keeps running), killed after `timeoutMs` when given. */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 0): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number | string }).code ?? 1) : 0;
        resolve({ code: err?.killed ? `killed after ${timeoutMs} ms` : code, stdout, stderr });
      },
    );
  });
}

export const runRelay = (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> =>
  run(process.execPath, [RELAY_BIN, ...args], env);
