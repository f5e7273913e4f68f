// POST /v1/cm360/conversions: validate, hash at the edge, start one enhancement workflow per conversion.
import { noteEvents } from './event-metrics';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { toCm360UserIdentifiers } from '../domain/cm360/identifiers';
import { cm360Schedule, type Cm360Timing } from '../domain/cm360/outcomes';
import type { Cm360Conversion } from '../domain/cm360/types';
import { hashIdentity } from '../domain/identifiers/hash';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import {
  cm360EnhancementStart,
  cm360EnhancementWorkflow,
  cm360WorkflowId,
  type Cm360EnhancementInput,
} from '../workflows/cm360-enhancement';
import { cm360CaptureSchema, MAX_CAPTURES_PER_REQUEST, type Cm360Capture } from './cm360-schema';
import { startAll, startBudgetMs } from './starts';
import { toFieldIssues, type FieldIssue } from './validation';

export interface Cm360RouteOptions {
  temporal: Client;
  taskQueue: string;
  /** CM360 user profile the conversions are enhanced under; the route answers 503 without one. */
  profileId: string | undefined;
  timing: Cm360Timing;
  defaultRegion?: string;
  /** How long starting the workflows may take: what is not started by then is answered `failed`. */
  startTimeoutMs?: number;
  now?: () => number;
}

/** A capture may be stamped a little ahead of our clock (the API tolerates a minute of skew). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;
const START_CONCURRENCY = 64;
/** The answer is due within this of the request's arrival, Temporal up or down (a caller's own timeout is usually 15 s or more). */
const DEFAULT_START_TIMEOUT_MS = 10_000;

interface Prepared {
  workflowId: string;
  input: Cm360EnhancementInput;
  deadlineMs: number;
}

/** One conversion of the request, at its index: what became of it. */
export interface ConversionResult {
  index: number;
  status: 'started' | 'duplicate' | 'invalid' | 'failed';
  workflowId?: string;
  dropped?: DroppedIdentifier[];
  /** Why it is `invalid`, field by field. */
  issues?: FieldIssue[];
  /** Why it `failed` (Temporal did not start it): send it again. */
  reason?: string;
}

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
      workflowId: cm360WorkflowId(conversion),
      input: { profileId, conversion, dropped, timing: opts.timing },
      deadlineMs: schedule.deadlineMs,
    },
  };
}

function start(opts: Cm360RouteOptions, p: Prepared) {
  return opts.temporal.workflow.start(
    cm360EnhancementWorkflow,
    cm360EnhancementStart(p.input, p.deadlineMs, opts.taskQueue),
  );
}

export function registerCm360Routes(app: FastifyInstance, opts: Cm360RouteOptions): void {
  app.post('/v1/cm360/conversions', async (request, reply) => {
    const body = request.body;
    const batch = Array.isArray(body);
    const items: unknown[] = batch ? body : [body];
    if (batch && (body.length === 0 || body.length > MAX_CAPTURES_PER_REQUEST)) {
      return reply.code(400).send({
        error: 'invalid request',
        issues: [{ field: '(body)', message: `send between 1 and ${MAX_CAPTURES_PER_REQUEST} conversions` }],
      });
    }
    const profileId = opts.profileId;
    if (!profileId) return reply.code(503).send({ error: 'CM360 is not configured: set CM360_PROFILE_ID' });
    const now = (opts.now ?? Date.now)();
    const field = (i: number, f: string) => (batch ? `[${i}]${f === '(body)' ? '' : `.${f}`}` : f);

    // Each conversion is judged on its own: a bad one is answered `invalid` and never holds up the others.
    const results: ConversionResult[] = [];
    const toStart: { index: number; prepared: Prepared }[] = [];
    items.forEach((item, index) => {
      const parsed = cm360CaptureSchema.safeParse(item);
      const result = parsed.success
        ? prepare(parsed.data, opts, profileId, now)
        : { issues: toFieldIssues(parsed.error) };
      if (result.prepared) {
        toStart.push({ index, prepared: result.prepared });
        results[index] = {
          index,
          workflowId: result.prepared.workflowId,
          status: 'started',
          dropped: result.prepared.input.dropped,
        };
      } else {
        const issues = result.issues.map((x) => ({ field: field(index, x.field), message: x.message }));
        results[index] = { index, status: 'invalid', issues };
      }
    });
    // Two captures of one conversion in one body: the first is started, the others are its duplicates.
    const first = new Map<string, number>();
    const unique = toStart.filter(({ index, prepared }) => {
      const seen = first.get(prepared.workflowId);
      if (seen === undefined) {
        first.set(prepared.workflowId, index);
        return true;
      }
      results[index] = { ...results[index]!, status: 'duplicate' };
      return false;
    });

    const outcomes = await startAll(
      unique,
      {
        temporal: opts.temporal,
        concurrency: START_CONCURRENCY,
        timeoutMs: startBudgetMs(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, reply.elapsedTime),
        answerWithinMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      },
      ({ prepared }) => start(opts, prepared),
    );
    outcomes.forEach((outcome, k) => {
      const { index } = unique[k]!;
      const r = results[index]!;
      results[index] = { ...r, ...outcome };
    });

    const count = (s: ConversionResult['status']) => results.filter((r) => r.status === s).length;
    const summary = {
      accepted: count('started') + count('duplicate'),
      started: count('started'),
      duplicate: count('duplicate'),
      invalid: count('invalid'),
      failed: count('failed'),
    };
    const issues = results.flatMap((r) => r.issues ?? []);
    noteEvents(request, {
      received: results.length,
      rejected: { invalid: summary.invalid, unavailable: summary.failed },
    });
    if (summary.failed > 0) {
      request.log.error({ failed: summary.failed, started: summary.started }, 'starting CM360 workflows failed');
      // Only the `failed` ones need sending again; re-sending the others is answered `duplicate`.
      return reply.code(503).send({
        error: 'Temporal did not start every conversion; send the failed ones again',
        ...summary,
        issues,
        conversions: results,
      });
    }
    if (summary.accepted === 0)
      return reply.code(400).send({ error: 'invalid request', ...summary, issues, conversions: results });
    // 207: some started, some were refused; each item says which.
    return reply
      .code(summary.invalid > 0 ? 207 : 202)
      .send({ ...summary, ...(issues.length ? { issues } : {}), conversions: results });
  });
}
