// POST /v1/cm360/conversions: validate, hash at the edge, start one enhancement workflow per conversion.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { toCm360UserIdentifiers } from '../domain/cm360/identifiers';
import { cm360Schedule, type Cm360Timing } from '../domain/cm360/outcomes';
import { cm360ConversionKey, type Cm360Conversion } from '../domain/cm360/types';
import { hashIdentity } from '../domain/identifiers/hash';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import {
  CM360_ENHANCEMENT_FLOW,
  cm360EnhancementWorkflow,
  cm360WorkflowId,
  type Cm360EnhancementInput,
} from '../workflows/cm360-enhancement';
import { RelayAccount, RelayDeadline, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { cm360CaptureSchema, MAX_CAPTURES_PER_REQUEST, type Cm360Capture } from './cm360-schema';
import { toFieldIssues, type FieldIssue } from './validation';

export interface Cm360RouteOptions {
  temporal: Client;
  taskQueue: string;
  /** CM360 user profile the conversions are enhanced under; the route answers 503 without one. */
  profileId: string | undefined;
  timing: Cm360Timing;
  defaultRegion?: string;
  /** How long starting the workflows may take before the api answers 503. */
  startTimeoutMs?: number;
  now?: () => number;
}

/** A capture may be stamped a little ahead of our clock (the API tolerates a minute of skew). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;
const START_CONCURRENCY = 32;

interface Prepared {
  workflowId: string;
  input: Cm360EnhancementInput;
  deadlineMs: number;
}

export type StartedConversion = { workflowId: string; status: 'started' | 'duplicate'; dropped: DroppedIdentifier[] };

function prepare(
  capture: Cm360Capture,
  opts: Cm360RouteOptions,
  profileId: string,
  now: number,
): { issues: FieldIssue[]; prepared?: Prepared } {
  const issues: FieldIssue[] = [];
  let dropped: DroppedIdentifier[] = [];
  let userIdentifiers = capture.userIdentifiers ?? [];
  if (capture.user) {
    const hashed = hashIdentity(capture.user, { defaultRegion: opts.defaultRegion });
    dropped = hashed.dropped;
    userIdentifiers = toCm360UserIdentifiers(hashed.identity);
    // A dropped field is reported in the answer and the workflow; it is fatal only when nothing is left.
    if (userIdentifiers.length === 0) {
      if (dropped.length === 0) issues.push({ field: 'user', message: 'no user identifier given' });
      for (const d of dropped) issues.push({ field: `user.${d.field}`, message: d.reason });
    }
  }
  const schedule = cm360Schedule(capture.timestampMicros, opts.timing);
  if (schedule.deadlineMs <= now) {
    issues.push({
      field: 'timestampMicros',
      message: 'the conversion is past its enhancement deadline (capture + 24 h less the safety margin)',
    });
  } else if (schedule.captureMs > now + MAX_FUTURE_SKEW_MS) {
    issues.push({ field: 'timestampMicros', message: 'the capture time is in the future' });
  }
  if (issues.length > 0) return { issues };
  const conversion: Cm360Conversion = {
    matchId: capture.matchId,
    ordinal: capture.ordinal,
    timestampMicros: capture.timestampMicros,
    floodlightActivityId: capture.floodlightActivityId,
    floodlightConfigurationId: capture.floodlightConfigurationId,
    quantity: capture.quantity,
    value: capture.value,
    userIdentifiers,
  };
  return {
    issues,
    prepared: {
      workflowId: cm360WorkflowId(cm360ConversionKey(conversion)),
      input: { profileId, conversion, dropped, timing: opts.timing },
      deadlineMs: schedule.deadlineMs,
    },
  };
}

async function start(opts: Cm360RouteOptions, p: Prepared): Promise<StartedConversion> {
  const c = p.input.conversion;
  try {
    await opts.temporal.workflow.start(cm360EnhancementWorkflow, {
      workflowId: p.workflowId,
      taskQueue: opts.taskQueue,
      args: [p.input],
      // A failed enhancement may be captured again; a running or enhanced one never runs twice.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: RelayFlow, value: CM360_ENHANCEMENT_FLOW },
        { key: RelayAccount, value: `cm360:${p.input.profileId}:${c.floodlightConfigurationId}` },
        { key: RelayStatus, value: 'WAITING_FOR_INDEX' },
        { key: RelayDeadline, value: new Date(p.deadlineMs) },
      ],
      staticSummary: `CM360 enhancement · Floodlight ${c.floodlightConfigurationId}/${c.floodlightActivityId} · ordinal ${c.ordinal}`,
      staticDetails: [
        '| | |',
        '|---|---|',
        `| profile | ${p.input.profileId} |`,
        `| Floodlight configuration / activity | ${c.floodlightConfigurationId} / ${c.floodlightActivityId} |`,
        `| ordinal | ${c.ordinal} |`,
        `| captured | ${new Date(Number(BigInt(c.timestampMicros) / 1000n)).toISOString()} |`,
        `| deadline | ${new Date(p.deadlineMs).toISOString()} |`,
        `| identifiers | ${c.userIdentifiers.map((u) => Object.keys(u)[0]).join(', ')} |`,
        `| dropped | ${p.input.dropped.map((d) => `${d.field} (${d.reason})`).join('; ') || 'none'} |`,
      ].join('\n'),
    });
    return { workflowId: p.workflowId, status: 'started', dropped: p.input.dropped };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { workflowId: p.workflowId, status: 'duplicate', dropped: p.input.dropped };
    }
    throw err;
  }
}

async function mapLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  });
  await Promise.all(lanes);
  return results;
}

export function registerCm360Routes(app: FastifyInstance, opts: Cm360RouteOptions): void {
  app.post('/v1/cm360/conversions', async (request, reply) => {
    const body = request.body;
    const items: unknown[] = Array.isArray(body) ? body : [body];
    const prefix = (i: number) => (Array.isArray(body) ? [i] : []);
    if (Array.isArray(body) && (body.length === 0 || body.length > MAX_CAPTURES_PER_REQUEST)) {
      return reply.code(400).send({
        error: 'invalid request',
        issues: [{ field: '(body)', message: `send between 1 and ${MAX_CAPTURES_PER_REQUEST} conversions` }],
      });
    }
    const now = (opts.now ?? Date.now)();
    const profileId = opts.profileId;
    const issues: FieldIssue[] = [];
    const prepared: Prepared[] = [];
    items.forEach((item, i) => {
      const parsed = cm360CaptureSchema.safeParse(item);
      if (!parsed.success) {
        issues.push(...toFieldIssues(parsed.error, prefix(i)));
        return;
      }
      const result = prepare(parsed.data, opts, profileId ?? '', now);
      const p = Array.isArray(body) ? `[${i}].` : '';
      issues.push(...result.issues.map((x) => ({ field: `${p}${x.field}`, message: x.message })));
      if (result.prepared) prepared.push(result.prepared);
    });
    if (issues.length > 0) return reply.code(400).send({ error: 'invalid request', issues });
    if (!profileId) {
      return reply.code(503).send({ error: 'CM360 is not configured: set CM360_PROFILE_ID' });
    }

    const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
    const settled = await opts.temporal.connection.withDeadline(deadline, () =>
      mapLimited(prepared, START_CONCURRENCY, (p) => start(opts, p)),
    );
    const failed = settled.filter((s) => s.status === 'rejected');
    const conversions = settled.map((s, i) =>
      s.status === 'fulfilled' ? s.value : { workflowId: prepared[i]?.workflowId, status: 'not-started' as const },
    );
    if (failed.length > 0) {
      request.log.error({ err: failed[0]?.reason }, 'starting CM360 workflows failed');
      // Starting is idempotent per conversion key, so the sender can safely send the whole body again.
      return reply.code(503).send({ error: 'Temporal is unavailable; retry the request', conversions });
    }
    return reply.code(202).send({ accepted: conversions.length, conversions });
  });
}
