// How several worker processes hold one vendor quota together. Every process that serves the uploads task queue
// takes an equal part of each quota (CM360's requests per second and per day, Google Ads' requests per second):
// 1 / the number of processes Temporal sees polling that queue. Temporal is the only thing the processes share,
// so membership comes from it (DescribeTaskQueue's pollers) and no lock service is needed.
//
// The parts never add up to more than the quota: a process that joins waits `settleMs` (two refreshes) before its
// first request, by which time the others have seen it and shrunk; a process that leaves is counted until its last
// poll is `liveMs` old, so the survivors grow back only once it is surely gone.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { WorkflowService } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface UploadShareOptions {
  service: Pick<WorkflowService, 'describeTaskQueue'>;
  namespace: string;
  taskQueue: string;
  /** This process's worker identity on the uploads queue (uploaderIdentity()). */
  identity: string;
  /**
   * Called with this process's part (0 while settling, then 1/n), the number of uploaders and this process's
   * place among them (their identities sorted, the same order in every process) whenever one changes.
   */
  onShare(share: number, uploaders: number, index: number): void;
  /** How often the pollers are read. Default 5 s. */
  refreshMs?: number;
  /** A poller whose last poll is older than this has left. Default 90 s (an idle long poll lasts up to 70 s). */
  liveMs?: number;
  /** How long a new process holds its uploads before its first request. Default two refreshes and a second. */
  settleMs?: number;
  /** Where a failed read is reported (the share is kept meanwhile). */
  warn?: (line: string) => void;
}

/** A worker identity no other process has: host, pid and a random part (pids repeat across containers). */
export function uploaderIdentity(): string {
  return `${process.pid}@${hostname()}/${randomUUID().slice(0, 8)}`;
}

/** The uploaders among `pollers` whose last poll is within `liveMs` of `nowMs`, always with `self`: sorted ids. */
export function liveUploaders(
  pollers: { identity?: string | null; lastAccessTime?: { seconds?: unknown; nanos?: number | null } | null }[],
  self: string,
  nowMs: number,
  liveMs: number,
): string[] {
  const live = new Set<string>([self]);
  for (const p of pollers) {
    if (!p.identity) continue;
    const seconds = Number(p.lastAccessTime?.seconds ?? 0);
    const lastMs = seconds * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6);
    if (nowMs - lastMs <= liveMs) live.add(p.identity);
  }
  return [...live].sort();
}

export class UploadShare {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private share = 0;
  private uploaders = 0;
  private index = 0;
  private stopped = false;

  constructor(private readonly opts: UploadShareOptions) {}

  /** Reads the pollers now and then every refresh; the first part is 0 (settling). */
  start(): void {
    this.opts.onShare(0, 0, 0);
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** This process's part of each quota now, and how many uploaders it counted. */
  current(): { share: number; uploaders: number; index: number } {
    return { share: this.share, uploaders: this.uploaders, index: this.index };
  }

  private async refresh(): Promise<void> {
    const refreshMs = this.opts.refreshMs ?? 5_000;
    try {
      const res = await this.opts.service.describeTaskQueue({
        namespace: this.opts.namespace,
        taskQueue: { name: this.opts.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const live = liveUploaders(res.pollers ?? [], this.opts.identity, Date.now(), this.opts.liveMs ?? 90_000);
      const settled = Date.now() - this.startedAt >= (this.opts.settleMs ?? 2 * refreshMs + 1_000);
      this.set(settled ? 1 / live.length : 0, live.length, live.indexOf(this.opts.identity));
    } catch (err) {
      this.opts.warn?.(`uploads: could not read the pollers of ${this.opts.taskQueue} (${(err as Error).message})`);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.refresh(), refreshMs);
      this.timer.unref();
    }
  }

  private set(share: number, uploaders: number, index: number): void {
    if (share === this.share && uploaders === this.uploaders && index === this.index) return;
    this.share = share;
    this.uploaders = uploaders;
    this.index = index;
    this.opts.onShare(share, uploaders, index);
  }
}
