// The whole `npm start` stack as a user runs it (`relay start`: the dev server with its Web UI, the worker, the api
// and the four emulators), as a child process in its own process group, on free ports and a fresh data directory
// (RELAY_DATA_DIR), so a test never meets a developer's own stack. Up once its sandbox.json is written and parses.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSandboxStackFile, type SandboxStackFile } from '../../src/sandbox/stack-file';
import { waitFor } from '../chaos/stack';
import { RELAY_BIN } from './cli';

/** `relay start` puts the Web UI on the Temporal port + 1000, and the Google Ads emulator's control port so too. */
const PLUS_1000 = 1000;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct free ports below the ephemeral range (where `port + 1000` is not handed to outgoing
 * connections meanwhile); each of the first `paired` has `port + 1000` free as well, and no port is another's pair.
 */
async function freePorts(count: number, paired: number): Promise<number[]> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 2000) throw new Error(`found only ${ports.length} of ${count} free ports`);
    const port = 20_000 + Math.floor(Math.random() * 9_000);
    const needsPair = ports.length < paired;
    const wanted = needsPair ? [port, port + PLUS_1000] : [port];
    if (wanted.some((p) => taken.has(p))) continue;
    if (!(await Promise.all(wanted.map(portFree))).every(Boolean)) continue;
    // A later port must not be an earlier one's pair, nor the other way round.
    for (const p of wanted) taken.add(p);
    ports.push(port);
  }
  return ports;
}

export interface RelayStack {
  dataDir: string;
  /** Its sandbox.json: the emulators' control URLs and the ports. */
  file: SandboxStackFile;
  env: NodeJS.ProcessEnv;
  temporal: { address: string; namespace: string; uiUrl: string };
  apiUrl: string;
  /** Everything `relay start` printed so far (stdout and stderr, interleaved). */
  output: () => string;
  stop: () => Promise<void>;
}

/** Sends `signal` to the process group led by `pid`; false when the group is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const done = once(child, 'exit').then(() => true);
  const result = await Promise.race([done, timedOut]);
  clearTimeout(timer);
  return result;
}

/** `relay start` on free ports and a fresh RELAY_DATA_DIR; resolves once its sandbox.json is written and parses. */
export async function startRelayStack({
  startTimeoutMs = 120_000,
  env: extraEnv = {},
}: { startTimeoutMs?: number; env?: Record<string, string> } = {}): Promise<RelayStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-npm-start-'));
  const [temporalPort, googleAdsPort, httpPort, workerPort, sdkPort, cm360Port, hubspotPort, pendoPort] =
    await freePorts(8, 2);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RELAY_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    RELAY_HTTP_PORT: String(httpPort),
    RELAY_WORKER_HTTP_PORT: String(workerPort),
    RELAY_SDK_METRICS_PORT: String(sdkPort),
    CM360_SANDBOX_PORT: String(cm360Port),
    HUBSPOT_SANDBOX_PORT: String(hubspotPort),
    GOOGLE_ADS_SANDBOX_PORT: String(googleAdsPort),
    PENDO_SANDBOX_PORT: String(pendoPort),
    ...extraEnv,
  };
  // Its own process group: the Temporal dev server it starts goes with it, whatever happens to the test.
  const child = spawn(process.execPath, [RELAY_BIN, 'start'], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString('utf8')));
  // Should the test's process end without `stop` (a crash, a signal), the stack must not outlive it.
  const orphaned = () => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const interrupted = () => {
    orphaned();
    process.exit(1);
  };
  process.once('exit', orphaned);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const stop = async () => {
    process.off('exit', orphaned);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (child.pid !== undefined) {
      // Ctrl-C first (the stack stops its parts and removes sandbox.json), then nothing is left standing.
      if (signalGroup(child.pid, 'SIGINT') && !(await exited(child, 30_000))) signalGroup(child.pid, 'SIGKILL');
      signalGroup(child.pid, 'SIGKILL');
      await exited(child, 10_000);
    }
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
  try {
    const stack = await waitFor(
      `${join(dataDir, 'sandbox.json')} from \`relay start\``,
      () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`relay start exited (${child.exitCode ?? child.signalCode}):\n${output}`);
        }
        const file = readSandboxStackFile(dataDir);
        return file?.temporal && file.apiUrl ? { file, temporal: file.temporal, apiUrl: file.apiUrl } : undefined;
      },
      { timeoutMs: startTimeoutMs, everyMs: 250 },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- relay start said:\n${output}`);
    });
    return { dataDir, env, ...stack, output: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
