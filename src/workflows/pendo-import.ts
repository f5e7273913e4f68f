// Flow E: one workflow per nightly (or manual) HubSpot → Pendo metadata import. It plans the run (which
// properties, which Pendo types), finds conflicting ids, then imports each level a chunk of pages at a time;
// the activities move the data and hand back counts and cursors only. The cursor lives in workflow state
// (and, within a chunk, in the activity's heartbeat), and the run continues as new before its history grows
// long, so a night of a million contacts stays a short history and survives a killed worker.
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PendoActivities } from '../activities/pendo';
import { HubSpotFailure } from '../domain/hubspot/failures';
import {
  addCounts,
  emptyCounts,
  emptySamples,
  hasFailures,
  invalidValueCount,
  mergeSamples,
  PENDO_NON_RETRYABLE,
  PENDO_OUTAGE_WINDOW_MS,
  PendoFailure,
  type ImportPlan,
  type ImportSamples,
  type LevelCounts,
  type LevelPlan,
  type PendoLevel,
  type SkippedField,
} from '../domain/pendo/types';
import { activityFailureCause, outageOf, trackProgress } from './progress';
import { WAITING_FOR_CREDENTIALS } from '../domain/outage';

export const PENDO_IMPORT_FLOW = 'pendo-import';
/** Workflow id of a run started by hand; the schedule's runs are `pendo-import-<scheduled time>`. */
export const manualPendoImportId = (at: Date) => `pendo-import-manual-${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

/** Pages (of 100 records) one activity reads and writes before it reports back. */
export const DEFAULT_PAGES_PER_CHUNK = 100;
/** Chunks one run of the workflow does before it continues as new (its history stays a few hundred events). */
export const DEFAULT_CHUNKS_PER_RUN = 100;

export type PendoImportState =
  'STARTING' | 'PLANNING' | 'SCANNING_IDS' | 'IMPORTING' | 'COMPLETED' | 'COMPLETED_WITH_FAILURES' | 'SKIPPED';

export type LevelPhase = 'PENDING' | 'SCANNING_IDS' | 'IMPORTING' | 'DONE' | 'FAILED';

export interface LevelStatus {
  level: PendoLevel;
  idProperty: string;
  phase: LevelPhase;
  /** HubSpot's record count (the id scan's, else search's), for progress. */
  estimate?: number;
  counts: LevelCounts;
  /** HubSpot record ids behind the counts (a sample of each). */
  samples: ImportSamples;
  /** The properties imported, with their Pendo type. */
  fields: { name: string; pendoType: string }[];
  skipped: SkippedField[];
  /** Id values shared by several records (how many distinct values), from the id scan. */
  conflictingIds?: number;
  error?: { reason: string; detail: string };
}

export interface PendoImportStatus {
  /** WAITING_FOR_CREDENTIALS while HubSpot's token or Pendo's key is refused (see untilAvailable). */
  state: PendoImportState | 'FAILED' | typeof WAITING_FOR_CREDENTIALS;
  trigger: 'schedule' | 'manual';
  startedAt: string;
  finishedAt?: string;
  region?: string;
  timeZone?: string;
  levels: LevelStatus[];
  /** How many runs (continue-as-new) this import took so far. */
  runs: number;
  skippedBecause?: string;
  failure?: string;
  lastError?: string;
  nextAttemptAt?: string;
}

export interface PendoImportResult {
  outcome: 'COMPLETED' | 'COMPLETED_WITH_FAILURES' | 'SKIPPED';
  startedAt: string;
  finishedAt: string;
  levels: LevelStatus[];
  /** For SKIPPED: the import that was already running. */
  runningImport?: string;
}

interface Carried {
  status: PendoImportStatus;
  plan: ImportPlan;
  salt: string;
  /** Per level: where the next chunk starts, and the conflicting-id fingerprints. */
  cursors: Partial<Record<PendoLevel, { after?: string; conflicts: string[] }>>;
}

export interface PendoImportInput {
  trigger: 'schedule' | 'manual';
  /** Set by continue-as-new. */
  carried?: Carried;
  /** Tuning, mostly for tests. */
  pagesPerChunk?: number;
  chunksPerRun?: number;
  /** How long a chunk may go without a heartbeat before a retry takes over (default 2 minutes). */
  chunkHeartbeatTimeoutMs?: number;
}

export const pendoImportStatusQuery = defineQuery<PendoImportStatus>('status');

const retry = {
  initialInterval: '5s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  nonRetryableErrorTypes: [...PENDO_NON_RETRYABLE, HubSpotFailure.Invalid, PendoFailure.NotConfigured],
};

const quick = proxyActivities<PendoActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '1h',
  retry,
});

// A chunk is a minute or two of HubSpot's budget; the heartbeat carries its cursor, so a killed worker costs
// at most the pages since the last write. Credentials failures wait 15 minutes a try, for up to 6 hours.
const chunkActivities = (heartbeatTimeout: number) =>
  proxyActivities<PendoActivities>({
    startToCloseTimeout: '1h',
    heartbeatTimeout,
    scheduleToCloseTimeout: '6h',
    retry,
  });

// The id scan reads every record's id in one attempt (its table of seen ids lives in memory only).
const scans = proxyActivities<PendoActivities>({
  startToCloseTimeout: '6h',
  heartbeatTimeout: '2m',
  scheduleToCloseTimeout: '12h',
  retry,
});

const fmt = (n: number) => n.toLocaleString('en-US');
const LEVEL_NOUN: Record<PendoLevel, string> = { visitor: 'visitors', account: 'accounts' };

/** One line per level, as current details and `relay pendo` show it. */
export function levelLine(l: Pick<LevelStatus, 'level' | 'counts' | 'estimate'>): string {
  const c = l.counts;
  const of = l.estimate !== undefined ? ` of ~${fmt(l.estimate)}` : '';
  const invalid = invalidValueCount(c);
  const parts = [
    `${fmt(c.updated)} updated`,
    c.missing ? `${fmt(c.missing)} not in Pendo` : '',
    c.failed ? `${fmt(c.failed)} failed` : '',
    c.conflicts ? `${fmt(c.conflicts)} conflicting ids` : '',
    c.emptyId ? `${fmt(c.emptyId)} without id` : '',
    invalid ? `${fmt(invalid)} values left out` : '',
  ].filter(Boolean);
  return `${LEVEL_NOUN[l.level]}: ${fmt(c.read)}${of} read (${parts.join(', ')})`;
}

export async function pendoImportWorkflow(input: PendoImportInput): Promise<PendoImportResult> {
  const info = workflowInfo();
  const pagesPerChunk = input.pagesPerChunk ?? DEFAULT_PAGES_PER_CHUNK;
  const chunksPerRun = input.chunksPerRun ?? DEFAULT_CHUNKS_PER_RUN;
  const chunks = chunkActivities(input.chunkHeartbeatTimeoutMs ?? 2 * 60_000);
  const carried: Carried = input.carried ?? {
    status: {
      state: 'STARTING',
      trigger: input.trigger,
      startedAt: new Date(info.runStartTime).toISOString(),
      levels: [],
      runs: 0,
    },
    plan: { region: 'us', timeZone: 'UTC', levels: [] },
    salt: uuid4(),
    cursors: {},
  };
  const status = carried.status;
  status.runs += 1;
  setHandler(pendoImportStatusQuery, () => status);
  const { report, settle, park } = trackProgress<PendoImportState>(
    status,
    status.state === 'FAILED' || status.state === WAITING_FOR_CREDENTIALS ? 'STARTING' : status.state,
  );
  /**
   * Runs an activity; while it fails for a credentials outage (HubSpot's token or Pendo's key refused, the
   * process's circuit open), the import parks until the account is tried again and runs it again, for up to
   * PENDO_OUTAGE_WINDOW_MS, then the failure stands (the level fails with it). Before the circuits, a refused key
   * cost an attempt every 15 minutes for 6 hours, invisible but in the pending activity.
   */
  let parkedSince: number | undefined;
  const untilAvailable = async <T>(call: () => Promise<T>): Promise<T> => {
    for (;;) {
      const state = status.state;
      try {
        const result = await call();
        parkedSince = undefined;
        return result;
      } catch (err) {
        const outage = outageOf(err);
        if (!outage) throw err;
        parkedSince ??= Date.now();
        if (outage.retryAtMs - parkedSince > PENDO_OUTAGE_WINDOW_MS) throw err;
        await park(outage);
        if (state !== 'FAILED' && state !== WAITING_FOR_CREDENTIALS) report(state, details());
      }
    }
  };
  const details = () => status.levels.map(levelLine).join('; ') || 'nothing imported yet';

  const finish = (): PendoImportResult => {
    status.finishedAt = new Date().toISOString();
    const failed = status.levels.filter((l) => l.phase === 'FAILED' || hasFailures(l.counts));
    const result: PendoImportResult = {
      outcome: failed.length > 0 ? 'COMPLETED_WITH_FAILURES' : 'COMPLETED',
      startedAt: status.startedAt,
      finishedAt: status.finishedAt,
      levels: status.levels,
    };
    if (failed.length === 0) {
      settle('COMPLETED', 'OK', details());
      return result;
    }
    const reasons = new Set<string>();
    for (const l of failed) {
      if (l.error) reasons.add(l.error.reason);
      if (l.counts.failed) reasons.add('PENDO_FAILED_RECORDS');
      if (l.counts.conflicts) reasons.add('CONFLICTING_IDS');
      if (invalidValueCount(l.counts)) reasons.add('INVALID_VALUES');
    }
    const reason = [...reasons].join(',');
    settle('COMPLETED_WITH_FAILURES', reason, details());
    // A run with failures must not look green: it fails, carrying its counts.
    throw ApplicationFailure.create({
      type: PendoFailure.CompletedWithFailures,
      message: `${reason}: ${details()}`,
      nonRetryable: true,
      details: [result],
    });
  };

  /** An activity that gave up: its level fails with the failure's type, the other level still runs. */
  const levelFailure = (err: unknown): { reason: string; detail: string } => {
    const cause = activityFailureCause(err);
    if (cause) return { reason: cause.type, detail: cause.message };
    if (err instanceof ActivityFailure) return { reason: `${err.activityType}Failed`, detail: err.message };
    throw err;
  };

  if (!input.carried) {
    const running = await quick.otherPendoImportRunning({ workflowId: info.workflowId, startedAt: status.startedAt });
    if (running) {
      status.skippedBecause = `${running} is still running`;
      status.finishedAt = new Date().toISOString();
      settle('SKIPPED', 'ALREADY_RUNNING', `another import is running: ${running}`);
      return {
        outcome: 'SKIPPED',
        startedAt: status.startedAt,
        finishedAt: status.finishedAt,
        levels: [],
        runningImport: running,
      };
    }
    report('PLANNING', 'checking the chosen properties against HubSpot');
    let plan: ImportPlan;
    try {
      plan = await untilAvailable(() => quick.planPendoImport());
    } catch (err) {
      const { reason, detail } = levelFailure(err);
      status.failure = reason;
      status.lastError = detail;
      settle('FAILED', reason, `${reason}: ${detail}`);
      throw ApplicationFailure.create({ type: reason, message: detail, nonRetryable: true });
    }
    carried.plan = plan;
    status.region = plan.region;
    status.timeZone = plan.timeZone;
    status.levels = plan.levels.map((p) => ({
      level: p.level,
      idProperty: p.idProperty,
      phase: p.error ? 'FAILED' : 'PENDING',
      counts: emptyCounts(),
      samples: emptySamples(),
      fields: p.fields.map((f) => ({ name: f.name, pendoType: f.pendoType })),
      skipped: p.skipped,
      ...(p.error ? { error: p.error } : {}),
    }));
  }

  let chunksThisRun = 0;
  for (const level of status.levels) {
    const plan = carried.plan.levels.find((p): p is LevelPlan => p.level === level.level);
    if (!plan || level.phase === 'DONE' || level.phase === 'FAILED') continue;
    const cursor = (carried.cursors[level.level] ??= { conflicts: [] });
    try {
      if (level.phase === 'PENDING') {
        if (plan.idUnique) {
          level.estimate = (await untilAvailable(() => quick.countHubSpotRecords({ level: level.level }))) ?? undefined;
        } else {
          level.phase = 'SCANNING_IDS';
          report('SCANNING_IDS', `${LEVEL_NOUN[level.level]}: checking ${plan.idProperty} for ids held twice`);
          const scan = await untilAvailable(() =>
            scans.scanPendoIds({ level: level.level, idProperty: plan.idProperty, salt: carried.salt }),
          );
          level.estimate = scan.scanned;
          if (!scan.ok) {
            level.phase = 'FAILED';
            level.error = { reason: scan.reason, detail: scan.detail };
            continue;
          }
          cursor.conflicts = scan.conflicts;
          level.conflictingIds = scan.conflicts.length;
        }
        level.phase = 'IMPORTING';
      }
      report('IMPORTING', details());
      for (;;) {
        if (chunksThisRun >= chunksPerRun || workflowInfo().continueAsNewSuggested) {
          await continueAsNew<typeof pendoImportWorkflow>({ ...input, carried });
        }
        const chunk = await untilAvailable(() =>
          chunks.importPendoPages({
            plan,
            ...(cursor.after !== undefined ? { after: cursor.after } : {}),
            salt: carried.salt,
            conflicts: cursor.conflicts,
            maxPages: pagesPerChunk,
          }),
        );
        chunksThisRun += 1;
        level.counts = addCounts(level.counts, chunk.counts);
        level.samples = mergeSamples(level.samples, chunk.samples);
        cursor.after = chunk.after;
        report('IMPORTING', details());
        if (chunk.after === undefined) break;
      }
      level.phase = 'DONE';
      // The fingerprints are no longer needed; continue-as-new need not carry them.
      cursor.conflicts = [];
    } catch (err) {
      // Anything but an activity that gave up (continue-as-new among them) propagates from levelFailure.
      const error = levelFailure(err);
      level.phase = 'FAILED';
      level.error = error;
    }
  }
  return finish();
}
