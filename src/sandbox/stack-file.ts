// `.data/sandbox.json`: what the running `npm start` stack started, written when it is up and removed when it
// stops, so `relay sandbox …` finds the emulators' control URLs and a second `npm start` can say who runs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
});
export type SandboxStackFile = z.infer<typeof sandboxStackFileSchema>;

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
