// HubSpot webhooks: signed batches of CRM events (Flow A) and form submissions (Flow B). Both are
// verified on the raw body before anything is parsed into work; a bad signature starts nothing.
import { noteEvents } from './event-metrics';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashFormFields } from '../activities/hubspot-forms';
import {
  formDefinitionFor,
  lifecycleDefinitionsForStage,
  type ConversionEventsConfig,
  type LifecycleDefinition,
} from '../domain/conversion-events/definitions';
import { idPartProblem } from '../domain/ids';
import { ENHANCEMENT_WINDOW_MS, googleAdsDateTime, parseOffsetDateTime } from '../domain/google-ads/rules';
import {
  formEnhancementStart,
  formEnhancementWorkflow,
  type FormEnhancementInput,
} from '../workflows/form-enhancement';
import {
  LIFECYCLE_CONVERSION_FLOW,
  lifecycleConversionWorkflow,
  lifecycleWorkflowId,
  type LifecycleConversionInput,
} from '../workflows/lifecycle-conversion';
import { RelayAccount, RelayFlow } from '../workflows/search-attributes';
import { bearerMatches } from './auth';
import { verifyHubSpotSignature } from './hubspot-signature';
import { registerJsonBodies } from './json-body';
import { startAll, startBudgetMs } from './starts';
import { idSchema, toFieldIssues, type FieldIssue } from './validation';

export interface HubSpotRouteOptions {
  temporal: Client;
  taskQueue: string;
  /** The HubSpot app's client secret: the key of its request signatures. */
  clientSecret: string | undefined;
  /** The api's public base URL as HubSpot calls it (signatures cover the full URL). */
  publicUrl?: string;
  /** Callers of the forms endpoint may use the api key instead of a HubSpot signature. */
  apiKey: string;
  conversionEvents: ConversionEventsConfig;
  defaultRegion?: string;
  enhancementSafetyMarginMs: number;
  /** How long starting the workflows may take before the api answers 503. */
  startTimeoutMs?: number;
  now?: () => number;
}

// HubSpot counts a webhook that takes longer than a few seconds (5 s in its current docs) as failed and
// redelivers it. Answering 503 within that keeps the failure an answer we log rather than a timeout;
// without a deadline the client's own retries against an unreachable Temporal take about 20 s.
const DEFAULT_START_TIMEOUT_MS = 4_000;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/** HubSpot's webhook deliveries carry the time of the change; one from further ahead than this is not real. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Before HubSpot existed: a time this old is a unit mistake (seconds for milliseconds), not a change. */
const EARLIEST_EVENT_MS = Date.UTC(2006, 0, 1);

/** One event of HubSpot's batched webhook POST; unknown fields are kept out, unknown types ignored. */
const webhookEventSchema = z.object({
  eventId: idSchema('eventId'),
  subscriptionType: z.string(),
  portalId: idSchema('portalId', { integer: true }),
  objectId: idSchema('objectId', { integer: true }),
  occurredAt: z.union([z.number(), z.bigint()], { error: 'occurredAt must be a time in epoch milliseconds' }),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  objectTypeId: z.string().optional(),
});
type WebhookEvent = z.output<typeof webhookEventSchema>;

/** What is wrong with an event's time, judged against the api's clock. */
function occurredAtProblem(occurredAt: number | bigint, now: number): string | undefined {
  const ms = Number(occurredAt);
  if (typeof occurredAt === 'bigint' || !Number.isInteger(ms)) return 'occurredAt must be whole epoch milliseconds';
  if (ms < EARLIEST_EVENT_MS) return 'occurredAt is before 2006: send epoch milliseconds';
  if (ms > now + MAX_FUTURE_SKEW_MS) return 'occurredAt is in the future';
  return undefined;
}

/** HubSpot sends at most 100 events a request; a thousand is a generous bound. */
const MAX_EVENTS_PER_REQUEST = 1000;

const formSubmissionSchema = z.strictObject({
  formId: idSchema('formId'),
  /** The submission id; Google Ads uses it as the order id of the original conversion. */
  submissionId: idSchema('submissionId').refine((v) => v.length <= 64, 'submissionId must be at most 64 characters'),
  submittedAt: z.string().refine((s) => parseOffsetDateTime(s) !== undefined, {
    message: 'submittedAt must be a date-time with an offset, e.g. 2026-11-24 15:04:05+01:00',
  }),
  userAgent: z.string().max(512).optional(),
  gclid: z.string().max(512).optional(),
  fields: z.strictObject({
    email: z.string().max(1024).optional(),
    phone: z.string().max(1024).optional(),
    firstname: z.string().max(1024).optional(),
    lastname: z.string().max(1024).optional(),
    address: z.string().max(1024).optional(),
    city: z.string().max(1024).optional(),
    state: z.string().max(1024).optional(),
    zip: z.string().max(1024).optional(),
    country: z.string().max(1024).optional(),
  }),
});

const START_CONCURRENCY = 32;

/**
 * The URL HubSpot signed: RELAY_PUBLIC_URL plus the path, else the request's scheme and host, which are a trusted
 * proxy's X-Forwarded-Proto and X-Forwarded-Host under RELAY_TRUST_PROXY and the connection's own otherwise.
 */
function fullUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const base = publicUrl?.replace(/\/$/, '') ?? `${request.protocol}://${request.host}`;
  return `${base}${request.url}`;
}

function startLifecycle(
  opts: HubSpotRouteOptions,
  event: WebhookEvent,
  definition: LifecycleDefinition,
  workflowId: string,
) {
  const { clickIdProperties } = opts.conversionEvents.hubspot;
  const occurredAtMs = Number(event.occurredAt);
  const stage = event.propertyValue ?? '';
  const input: LifecycleConversionInput = {
    portalId: event.portalId,
    eventId: event.eventId,
    contactId: event.objectId,
    stage,
    occurredAtMs,
    definition,
    ...(clickIdProperties ? { clickIdProperties } : {}),
  };
  return opts.temporal.workflow.start(lifecycleConversionWorkflow, {
    workflowId,
    taskQueue: opts.taskQueue,
    args: [input],
    // A redelivered change must never upload twice, whatever became of the first run.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: RelayFlow, value: LIFECYCLE_CONVERSION_FLOW },
      { key: RelayAccount, value: `google-ads:${definition.customerId}` },
    ],
    staticSummary: `HubSpot ${definition.trigger.stage} → Google Ads · contact ${event.objectId} · ${definition.id}`,
    staticDetails: [
      '| | |',
      '|---|---|',
      `| conversion event | ${definition.name} (${definition.id}) |`,
      `| HubSpot portal / contact | ${event.portalId} / ${event.objectId} |`,
      `| stage | ${stage} |`,
      `| webhook event | ${event.eventId} at ${new Date(occurredAtMs).toISOString()} |`,
      `| Google Ads customer / action | ${definition.customerId} / ${definition.trigger.conversionAction} |`,
    ].join('\n'),
  });
}

/**
 * What is wrong with a submission time: the enhancement must reach Google before the original conversion is
 * 24 hours old (less the margin), and a time ahead of our clock by more than the skew is not a real one.
 */
export function submittedAtProblem(submittedAtMs: number, now: number, safetyMarginMs: number): string | undefined {
  const earliest = now - ENHANCEMENT_WINDOW_MS + safetyMarginMs;
  if (submittedAtMs < earliest) {
    return `submittedAt is more than 24 h (less the ${Math.round(safetyMarginMs / 60_000)}-minute margin) ago: Google Ads accepts enhancements for web only within 24 hours of the conversion`;
  }
  if (submittedAtMs > now + MAX_FUTURE_SKEW_MS) return 'submittedAt is in the future';
  return undefined;
}

export function registerHubSpotRoutes(app: FastifyInstance, opts: HubSpotRouteOptions): void {
  // Signatures cover the exact bytes HubSpot sent, so this scope keeps the raw body beside the parse.
  void app.register((scope, _options, done) => {
    registerJsonBodies(scope, {
      keepRaw: (request, text) => {
        request.rawBody = text;
      },
    });

    const signatureOk = (request: FastifyRequest, reply: FastifyReply, formsEndpoint: boolean): boolean => {
      if (formsEndpoint && bearerMatches(request.headers.authorization, opts.apiKey)) return true;
      if (!opts.clientSecret) {
        void reply.code(503).send({ error: 'HubSpot webhooks are not configured: set HUBSPOT_CLIENT_SECRET' });
        return false;
      }
      const url = fullUrl(request, opts.publicUrl);
      const check = verifyHubSpotSignature(
        { method: request.method, url, rawBody: request.rawBody ?? '', headers: request.headers },
        opts.clientSecret,
        // CRM webhooks always carry v3 (with its replay window); a workflow's webhook action may carry v1/v2.
        { now: (opts.now ?? Date.now)(), allowLegacy: formsEndpoint },
      );
      if (check.ok) return true;
      // What was checked, so a sender can see why its signature differs: the method, the URL as the api rebuilt
      // it (RELAY_PUBLIC_URL + path, else the request's own host) and the timestamp it sent. Never the secret or
      // the signature the api expected.
      const timestamp = request.headers['x-hubspot-request-timestamp'];
      const checked = {
        method: request.method,
        url,
        ...(typeof timestamp === 'string' ? { timestamp } : {}),
      };
      request.log.warn({ reason: check.reason, checked }, 'HubSpot signature rejected');
      void reply.code(401).send({
        error: `invalid HubSpot signature: ${check.reason} (checked ${checked.method} ${url}${checked.timestamp ? ` with timestamp ${checked.timestamp}` : ''})`,
        checked,
        hint: opts.publicUrl
          ? 'HubSpot signs the URL it calls; RELAY_PUBLIC_URL must be that URL without the path'
          : "HubSpot signs the URL it calls; behind a proxy, set RELAY_PUBLIC_URL to that URL without the path, or RELAY_TRUST_PROXY to the proxy's address so its X-Forwarded-Proto and X-Forwarded-Host count",
      });
      return false;
    };

    scope.post('/webhooks/hubspot', async (request, reply) => {
      if (!signatureOk(request, reply, false)) return reply;
      const body = request.body;
      if (!Array.isArray(body) || body.length > MAX_EVENTS_PER_REQUEST) {
        return reply.code(400).send({
          error: 'invalid webhook body',
          issues: [{ field: '(body)', message: `send an array of at most ${MAX_EVENTS_PER_REQUEST} events` }],
        });
      }
      const now = (opts.now ?? Date.now)();
      const rejected: { index: number; eventId?: string; issues: FieldIssue[] }[] = [];
      const ignored: { eventId: string; reason: string }[] = [];
      const toStart: { event: WebhookEvent; definition: LifecycleDefinition; workflowId: string }[] = [];
      body.forEach((raw: unknown, index) => {
        // Each event is judged on its own: a bad one is rejected with its fields and never holds up the others.
        const parsed = webhookEventSchema.safeParse(raw);
        const reject = (issues: FieldIssue[]) =>
          rejected.push({ index, ...(parsed.success ? { eventId: parsed.data.eventId } : {}), issues });
        if (!parsed.success) return void reject(toFieldIssues(parsed.error, [index]));
        const event = parsed.data;
        const isContactChange =
          event.subscriptionType === 'contact.propertyChange' ||
          (event.subscriptionType === 'object.propertyChange' && event.objectTypeId === '0-1');
        if (!isContactChange || event.propertyName !== 'lifecyclestage' || !event.propertyValue) {
          ignored.push({ eventId: event.eventId, reason: 'not a contact lifecycle-stage change' });
          return;
        }
        const issues: FieldIssue[] = [];
        const when = occurredAtProblem(event.occurredAt, now);
        if (when) issues.push({ field: `[${index}].occurredAt`, message: when });
        const stage = idPartProblem(event.propertyValue);
        if (stage) issues.push({ field: `[${index}].propertyValue`, message: `propertyValue ${stage}` });
        if (issues.length > 0) return void reject(issues);
        const definitions = lifecycleDefinitionsForStage(opts.conversionEvents, event.propertyValue);
        if (definitions.length === 0) {
          ignored.push({
            eventId: event.eventId,
            reason: `no enabled conversion event for stage ${event.propertyValue}`,
          });
          return;
        }
        for (const definition of definitions) {
          const workflowId = lifecycleWorkflowId({
            portalId: event.portalId,
            contactId: event.objectId,
            stage: event.propertyValue,
            occurredAtMs: Number(event.occurredAt),
            definitionId: definition.id,
          });
          toStart.push({ event, definition, workflowId });
        }
      });
      if (rejected.length > 0) {
        // Never the values: the fields and what is wrong with them.
        request.log.warn(
          { rejected: rejected.map((r) => ({ index: r.index, fields: r.issues.map((i) => i.field) })) },
          'HubSpot webhook events rejected',
        );
      }
      // Failed starts are counted as the outcome of the starts (relay_workflows_started_total).
      noteEvents(request, { received: body.length, rejected: { invalid: rejected.length } });
      if (rejected.length === body.length && body.length > 0) {
        return reply.code(400).send({
          error: 'invalid webhook body',
          issues: rejected.flatMap((r) => r.issues),
          rejected,
        });
      }

      // One business event (the same change delivered as contact.propertyChange and object.propertyChange, or
      // redelivered under a new event id) is one workflow: the first start wins, the others are duplicates.
      const first = new Map<string, number>();
      toStart.forEach((s, i) => {
        if (!first.has(s.workflowId)) first.set(s.workflowId, i);
      });
      const unique = [...first.values()].map((i) => toStart[i]!);
      const outcomes = await startAll(
        unique,
        {
          temporal: opts.temporal,
          concurrency: START_CONCURRENCY,
          timeoutMs: startBudgetMs(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, reply.elapsedTime),
          answerWithinMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        },
        ({ event, definition, workflowId }) => startLifecycle(opts, event, definition, workflowId),
      );
      const outcomeOf = new Map(unique.map((u, k) => [u.workflowId, outcomes[k]!]));
      const started = toStart.map((s, i) => {
        const outcome = outcomeOf.get(s.workflowId)!;
        // A second delivery of the same change in this batch is the first one's duplicate.
        const again = first.get(s.workflowId) !== i && outcome.status === 'started';
        return {
          workflowId: s.workflowId,
          eventId: s.event.eventId,
          ...(again ? { status: 'duplicate' as const } : outcome),
        };
      });
      if (started.some((s) => s.status === 'failed')) {
        request.log.error(
          { failed: started.filter((s) => s.status === 'failed').length },
          'starting HubSpot lifecycle workflows failed',
        );
        // Every start is idempotent per business event, so HubSpot redelivering the whole batch is safe.
        return reply
          .code(503)
          .send({ error: 'Temporal did not start every event; HubSpot will redeliver', started, ignored, rejected });
      }
      return reply.code(200).send({ started, ignored, rejected });
    });

    scope.post('/webhooks/hubspot/forms', async (request, reply) => {
      if (!signatureOk(request, reply, true)) return reply;
      const parsed = formSubmissionSchema.safeParse(request.body);
      if (!parsed.success)
        return reply.code(400).send({ error: 'invalid request', issues: toFieldIssues(parsed.error) });
      const s = parsed.data;
      const definition = formDefinitionFor(opts.conversionEvents, s.formId);
      if (!definition) {
        return reply.code(422).send({
          error: 'invalid request',
          issues: [{ field: 'formId', message: `no conversion event is defined for form ${s.formId}` }],
        });
      }
      // Only the fields the definition shares leave the relay, hashed.
      const hashed = hashFormFields(s.fields, definition, opts.defaultRegion);
      const { userIdentifiers } = hashed;
      if (userIdentifiers.length === 0) {
        const issues = hashed.dropped.length
          ? hashed.dropped.map((d) => ({ field: `fields.${d.field}`, message: d.reason }))
          : [{ field: 'fields', message: 'no email, phone or name/address to enhance the conversion with' }];
        return reply.code(400).send({ error: 'invalid request', issues });
      }
      const submittedAtMs = parseOffsetDateTime(s.submittedAt)!;
      const windowProblem = submittedAtProblem(submittedAtMs, (opts.now ?? Date.now)(), opts.enhancementSafetyMarginMs);
      if (windowProblem) {
        return reply
          .code(400)
          .send({ error: 'invalid request', issues: [{ field: 'submittedAt', message: windowProblem }] });
      }
      const input: FormEnhancementInput = {
        formId: s.formId,
        submissionId: s.submissionId,
        submittedAtMs,
        conversionDateTime: googleAdsDateTime(submittedAtMs),
        userAgent: s.userAgent,
        gclid: s.gclid,
        userIdentifiers,
        dropped: hashed.dropped,
        definition,
        safetyMarginMs: opts.enhancementSafetyMarginMs,
      };
      const start = formEnhancementStart(input, opts.taskQueue);
      const [outcome] = await startAll(
        [start],
        {
          temporal: opts.temporal,
          concurrency: 1,
          timeoutMs: startBudgetMs(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, reply.elapsedTime),
          answerWithinMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        },
        (options) => opts.temporal.workflow.start(formEnhancementWorkflow, options),
      );
      const { workflowId } = start;
      if (outcome!.status === 'failed' || outcome!.status === 'invalid') {
        request.log.error({ workflowId, reason: outcome!.reason }, 'starting a HubSpot form workflow failed');
        return reply.code(503).send({ error: outcome!.reason, workflowId });
      }
      return reply.code(202).send({ workflowId, status: outcome!.status, dropped: hashed.dropped });
    });
    done();
  });
}
