// The parts of the chaos tests that are processes the test kills and starts again: the Temporal CLI dev server
// (restartable on the same port and SQLite file, so its state survives) and the relay worker as the user runs
// it (`bin/relay.js worker`, a child process). Every wait here is on a condition, with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { RELAY_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { RELAY_BIN } from '../helpers/cli';

/** Polls `check` until it holds (or returns a value), failing with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 120_000, everyMs = 50 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() > until) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`,
      );
    }
    await pause(everyMs);
  }
}

/** A TCP port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

const SEARCH_ATTRIBUTE_TYPE: Record<string, string> = {
  KEYWORD: 'Keyword',
  DATETIME: 'Datetime',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
};

async function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The Temporal CLI dev server on a fixed port and SQLite file: stop() and start() again keeps every workflow. */
export class DevServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dbFile: string,
    private readonly logFile: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    writeSync(log, `--- start ${new Date().toISOString()}\n`);
    const child = spawn(
      temporalCliPath(),
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--db-filename',
        this.dbFile,
        '--log-level',
        'warn',
        // WAL and one fsync per checkpoint rather than per transaction: a 2-core machine then writes a burst's
        // histories in seconds, and the file still holds every committed transaction when the process dies.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        ...RELAY_SEARCH_ATTRIBUTES.flatMap((k) => [
          '--search-attribute',
          `${k.name}=${SEARCH_ATTRIBUTE_TYPE[k.type] ?? 'Keyword'}`,
        ]),
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    await waitFor(
      `the dev server on ${this.address}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`it exited with ${child.exitCode}: ${this.logTail()}`);
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        try {
          await connection.healthService.check({});
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
  }

  /** SIGTERM (the server shuts down cleanly) and waits for the exit; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exitOf(child, 30_000);
  }

  logTail(): string {
    return readFileSync(this.logFile, 'utf8').slice(-2000);
  }
}

/** `bin/relay.js worker` as a child process, its output in a file. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly spawnedAt = Date.now();
  /** Resolves when the worker prints that it polls (its workflow bundle is built, it is connected). */
  readonly ready: Promise<number>;
  private output = '';

  constructor(
    env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    writeSync(log, `--- worker ${new Date().toISOString()}\n`);
    closeSync(log);
    this.child = spawn(process.execPath, [RELAY_BIN, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20_000);
      const fd = openSync(this.logFile, 'a');
      writeSync(fd, text);
      closeSync(fd);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    const exited = once(this.child, 'exit').then(() => {
      throw new Error(`the worker exited before it was ready: ${this.tail()}`);
    });
    this.ready = Promise.race([
      waitFor('the worker to poll', () => this.output.includes('worker polling task queue') && Date.now(), {
        timeoutMs: 120_000,
        everyMs: 25,
      }),
      exited,
    ]);
    // The race above owns the rejection only until the worker is ready.
    exited.catch(() => undefined);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals, timeoutMs = 60_000): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await exitOf(this.child, timeoutMs);
  }

  tail(): string {
    return this.output.slice(-3000);
  }
}
