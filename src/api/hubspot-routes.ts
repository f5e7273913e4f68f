// HubSpot webhooks: signed batches of CRM events (Flow A) and form submissions (Flow B). Both are
// verified on the raw body before anything is parsed into work; a bad signature starts nothing.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { countryCodeFromHubSpot } from '../activities/hubspot';
import {
  formDefinitionFor,
  lifecycleDefinitionsForStage,
  type ConversionEventsConfig,
} from '../domain/conversion-events/definitions';
import { toGoogleAdsUserIdentifiers } from '../domain/google-ads/identifiers';
import { googleAdsDateTime, parseOffsetDateTime } from '../domain/google-ads/rules';
import { GOOGLE_ADS_MAX_USER_IDENTIFIERS } from '../domain/google-ads/types';
import { hashIdentity } from '../domain/identifiers/hash';
import {
  FORM_ENHANCEMENT_FLOW,
  formEnhancementWorkflow,
  formWorkflowId,
  type FormEnhancementInput,
} from '../workflows/form-enhancement';
import {
  LIFECYCLE_CONVERSION_FLOW,
  lifecycleConversionWorkflow,
  lifecycleWorkflowId,
  type LifecycleConversionInput,
} from '../workflows/lifecycle-conversion';
import { RelayAccount, RelayFlow, RelayStatus } from '../workflows/search-attributes';
import { bearerMatches } from './auth';
import { verifyHubSpotSignature } from './hubspot-signature';
import { toFieldIssues } from './validation';

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

const id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

/** One event of HubSpot's batched webhook POST; unknown fields are kept out, unknown types ignored. */
const webhookEventSchema = z.object({
  eventId: id,
  subscriptionType: z.string(),
  portalId: id,
  objectId: id,
  occurredAt: z.number().int().nonnegative(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  objectTypeId: z.string().optional(),
});
const webhookBodySchema = z.array(webhookEventSchema).max(1000);

const formSubmissionSchema = z.strictObject({
  formId: z.string().trim().min(1),
  /** The submission id; Google Ads uses it as the order id of the original conversion. */
  submissionId: z.string().trim().min(1).max(64),
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

function withStartDeadline<T>(opts: HubSpotRouteOptions, fn: () => Promise<T>): Promise<T> {
  return opts.temporal.connection.withDeadline(Date.now() + (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS), fn);
}

function fullUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const base = publicUrl?.replace(/\/$/, '') ?? `${request.protocol}://${request.host}`;
  return `${base}${request.url}`;
}

type StartResult = 'started' | 'duplicate';

async function startOnce(start: () => Promise<WorkflowHandle>): Promise<StartResult> {
  try {
    await start();
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw err;
  }
}

export function registerHubSpotRoutes(app: FastifyInstance, opts: HubSpotRouteOptions): void {
  // Signatures cover the exact bytes HubSpot sent, so this scope keeps the raw body beside the parse.
  void app.register((scope, _options, done) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, parsed) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      request.rawBody = text;
      try {
        parsed(null, text === '' ? undefined : JSON.parse(text));
      } catch {
        parsed(Object.assign(new Error('body is not valid JSON'), { statusCode: 400 }), undefined);
      }
    });

    const signatureOk = (request: FastifyRequest, reply: FastifyReply, formsEndpoint: boolean): boolean => {
      if (formsEndpoint && bearerMatches(request.headers.authorization, opts.apiKey)) return true;
      if (!opts.clientSecret) {
        void reply.code(503).send({ error: 'HubSpot webhooks are not configured: set HUBSPOT_CLIENT_SECRET' });
        return false;
      }
      const check = verifyHubSpotSignature(
        {
          method: request.method,
          url: fullUrl(request, opts.publicUrl),
          rawBody: request.rawBody ?? '',
          headers: request.headers,
        },
        opts.clientSecret,
        // CRM webhooks always carry v3 (with its replay window); a workflow's webhook action may carry v1/v2.
        { now: (opts.now ?? Date.now)(), allowLegacy: formsEndpoint },
      );
      if (check.ok) return true;
      request.log.warn({ reason: check.reason }, 'HubSpot signature rejected');
      void reply.code(401).send({ error: `invalid HubSpot signature: ${check.reason}` });
      return false;
    };

    scope.post('/webhooks/hubspot', async (request, reply) => {
      if (!signatureOk(request, reply, false)) return reply;
      const parsed = webhookBodySchema.safeParse(request.body);
      if (!parsed.success)
        return reply.code(400).send({ error: 'invalid webhook body', issues: toFieldIssues(parsed.error) });

      const started: { workflowId: string; status: StartResult }[] = [];
      const ignored: { eventId: string; reason: string }[] = [];
      const starts: (() => Promise<void>)[] = [];
      for (const event of parsed.data) {
        const isContactChange =
          event.subscriptionType === 'contact.propertyChange' ||
          (event.subscriptionType === 'object.propertyChange' && event.objectTypeId === '0-1');
        if (!isContactChange || event.propertyName !== 'lifecyclestage' || !event.propertyValue) {
          ignored.push({ eventId: event.eventId, reason: 'not a contact lifecycle-stage change' });
          continue;
        }
        const definitions = lifecycleDefinitionsForStage(opts.conversionEvents, event.propertyValue);
        const { clickIdProperties } = opts.conversionEvents.hubspot;
        if (definitions.length === 0) {
          ignored.push({
            eventId: event.eventId,
            reason: `no enabled conversion event for stage ${event.propertyValue}`,
          });
          continue;
        }
        for (const definition of definitions) {
          const workflowId = lifecycleWorkflowId(event.portalId, event.objectId, event.eventId, definition.id);
          const input: LifecycleConversionInput = {
            portalId: event.portalId,
            eventId: event.eventId,
            contactId: event.objectId,
            stage: event.propertyValue,
            occurredAtMs: event.occurredAt,
            definition,
            ...(clickIdProperties ? { clickIdProperties } : {}),
          };
          starts.push(async () => {
            const status = await startOnce(() =>
              opts.temporal.workflow.start(lifecycleConversionWorkflow, {
                workflowId,
                taskQueue: opts.taskQueue,
                args: [input],
                // A redelivered event (same id) must never upload twice, whatever became of the first run.
                workflowIdReusePolicy: 'REJECT_DUPLICATE',
                workflowIdConflictPolicy: 'FAIL',
                typedSearchAttributes: [
                  { key: RelayFlow, value: LIFECYCLE_CONVERSION_FLOW },
                  { key: RelayAccount, value: `google-ads:${definition.customerId}` },
                  { key: RelayStatus, value: 'READING_CONTACT' },
                ],
                staticSummary: `HubSpot ${definition.trigger.stage} → Google Ads · contact ${event.objectId} · ${definition.id}`,
                staticDetails: [
                  '| | |',
                  '|---|---|',
                  `| conversion event | ${definition.name} (${definition.id}) |`,
                  `| HubSpot portal / contact | ${event.portalId} / ${event.objectId} |`,
                  `| stage | ${event.propertyValue} |`,
                  `| webhook event | ${event.eventId} at ${new Date(event.occurredAt).toISOString()} |`,
                  `| Google Ads customer / action | ${definition.customerId} / ${definition.trigger.conversionAction} |`,
                ].join('\n'),
              }),
            );
            started.push({ workflowId, status });
          });
        }
      }
      const settled = await withStartDeadline(opts, () => Promise.allSettled(starts.map((s) => s())));
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) {
        request.log.error({ err: failed.reason }, 'starting HubSpot lifecycle workflows failed');
        // Every start is idempotent per event, so HubSpot redelivering the whole batch is safe.
        return reply.code(503).send({ error: 'Temporal is unavailable; retry the request', started, ignored });
      }
      return reply.code(200).send({ started, ignored });
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
      const f = s.fields;
      const shared = new Set(definition.sharedFields);
      const withAddress = shared.has('address');
      // HubSpot's country field is free text ("Deutschland"): read it as the contact activity does, or a
      // country name would be dropped and the phone number read in the default region instead.
      const country = f.country === undefined ? undefined : (countryCodeFromHubSpot(f.country) ?? f.country);
      const hashed = hashIdentity(
        {
          email: shared.has('email') ? f.email : undefined,
          phone: shared.has('phone') ? f.phone : undefined,
          firstName: shared.has('firstName') ? f.firstname : undefined,
          lastName: shared.has('lastName') ? f.lastname : undefined,
          streetAddress: withAddress ? f.address : undefined,
          city: withAddress ? f.city : undefined,
          state: withAddress ? f.state : undefined,
          postalCode: withAddress ? f.zip : undefined,
          countryCode: withAddress || shared.has('phone') ? country : undefined,
        },
        { defaultRegion: opts.defaultRegion },
      );
      const userIdentifiers = toGoogleAdsUserIdentifiers(hashed.identity, { withAddress: true }).slice(
        0,
        GOOGLE_ADS_MAX_USER_IDENTIFIERS,
      );
      if (userIdentifiers.length === 0) {
        const issues = hashed.dropped.length
          ? hashed.dropped.map((d) => ({ field: `fields.${d.field}`, message: d.reason }))
          : [{ field: 'fields', message: 'no email, phone or name/address to enhance the conversion with' }];
        return reply.code(400).send({ error: 'invalid request', issues });
      }
      const submittedAtMs = parseOffsetDateTime(s.submittedAt)!;
      const workflowId = formWorkflowId(s.formId, s.submissionId);
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
      let status: StartResult;
      try {
        status = await withStartDeadline(opts, () =>
          startOnce(() =>
            opts.temporal.workflow.start(formEnhancementWorkflow, {
              workflowId,
              taskQueue: opts.taskQueue,
              args: [input],
              workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
              workflowIdConflictPolicy: 'FAIL',
              typedSearchAttributes: [
                { key: RelayFlow, value: FORM_ENHANCEMENT_FLOW },
                { key: RelayAccount, value: `google-ads:${definition.customerId}` },
                { key: RelayStatus, value: 'UPLOADING' },
              ],
              staticSummary: `HubSpot form ${s.formId} → Google Ads enhancement · order ${s.submissionId}`,
            }),
          ),
        );
      } catch (err) {
        request.log.error({ err }, 'starting a HubSpot form workflow failed');
        return reply.code(503).send({ error: 'Temporal is unavailable; retry the request', workflowId });
      }
      return reply.code(202).send({ workflowId, status, dropped: hashed.dropped });
    });
    done();
  });
}
