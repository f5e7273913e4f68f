// `sandbox.json` in npm start's data directory (RELAY_DATA_DIR, default .data/): what the running stack started,
// written when it is up and removed when it stops, so `relay sandbox …` and `relay demo` find the emulators, the
// api and the Web UI, and a second `npm start` can say who runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SANDBOX_EMULATORS } from './catalog';

const emulatorSchema = z.object({
  /** Where PUT/GET/DELETE /_sandbox/fault and the emulator's other control routes answer. */
  controlUrl: z.string().url(),
  /** What the relay was pointed at (an HTTP base URL, or host:port for gRPC). */
  endpoint: z.string(),
});

export const sandboxStackFileSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  /** Emulators the stack runs; an integration with credentials configured has none. */
  emulators: z.partialRecord(z.enum(SANDBOX_EMULATORS), emulatorSchema),
  /** Every port the stack listens on, by what listens. */
  ports: z.array(z.object({ name: z.string(), port: z.number().int() })).default([]),
  /** Where the stack's parts answer, for `relay demo` (absent in files written before it). */
  temporal: z.object({ address: z.string(), namespace: z.string(), uiUrl: z.string().url() }).optional(),
  apiUrl: z.string().url().optional(),
});
export type SandboxStackFile = z.infer<typeof sandboxStackFileSchema>;

/** npm start's data directory: RELAY_DATA_DIR, else .data/ in the project. */
export const stackDataDir = (env: { RELAY_DATA_DIR?: string | undefined }, projectRoot: string): string =>
  env.RELAY_DATA_DIR ? resolve(env.RELAY_DATA_DIR) : join(projectRoot, '.data');

export const sandboxStackFilePath = (dataDir: string) => join(dataDir, 'sandbox.json');

export function writeSandboxStackFile(dataDir: string, stack: SandboxStackFile): void {
  writeFileSync(sandboxStackFilePath(dataDir), `${JSON.stringify(stack, null, 2)}\n`);
}

/** The file's content, or undefined when there is none (or it is unreadable: a stale file never blocks). */
export function readSandboxStackFile(dataDir: string): SandboxStackFile | undefined {
  const path = sandboxStackFilePath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const parsed = sandboxStackFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file when it is this process's (a second stack that failed to start leaves the first one's). */
export function removeSandboxStackFile(dataDir: string, pid = process.pid): void {
  if (readSandboxStackFile(dataDir)?.pid === pid) rmSync(sandboxStackFilePath(dataDir), { force: true });
}

/** Whether a process with this id is alive (a stale file's pid usually is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
