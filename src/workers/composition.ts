// Composition roots: turn a parsed configuration into running processes. Only src/cli hands them
// process.env (through loadConfig); nothing below reads the environment.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildHealthServer } from '../api/health';
import { registerCircuitMetrics } from '../metrics/circuits';
import { cm360RowOutcome, googleAdsRowOutcome, RelayMetrics } from '../metrics/relay';
import { workflowStartMetrics } from '../metrics/workflow-starts';
import { createLogger, temporalLogger } from '../logging/logger';
import type { DestinationStream, Logger } from 'pino';
import { buildApi } from '../api/server';
import { ApplicationFailure } from '@temporalio/common';
import type { CallActivityDeps } from '../activities/calls';
import type { Cm360Batchers } from '../activities/cm360';
import type { GoogleAdsUploaders } from '../activities/google-ads';
import type { HubSpotActivityDeps } from '../activities/hubspot';
import { createCm360Auth } from '../clients/cm360/auth';
import { Cm360BatcherPool } from '../clients/cm360/batcher';
import { Cm360Client } from '../clients/cm360/client';
import { GoogleAdsBatcherPool } from '../clients/google-ads/batcher';
import { GoogleAdsConversionClient } from '../clients/google-ads/client';
import { GoogleAdsFailure } from '../domain/google-ads/failures';
import { HubSpotCallReader } from '../clients/hubspot/calls';
import { OutageCircuits } from '../clients/shared/circuit';
import { HubSpotFormSubmissionReader } from '../clients/hubspot/forms';
import type { FormPollDeps } from '../activities/hubspot-forms';
import { applyFormPollSchedules, lastCompletedFormPoll } from '../schedules/hubspot-form-poll';
import { HubSpotCrmClient } from '../clients/hubspot/client';
import { createPendoActivities, type PendoActivityDeps } from '../activities/pendo';
import { HubSpotRateLimiter } from '../clients/hubspot/rate-limit';
import { HubSpotRecordReader } from '../clients/hubspot/records';
import { PendoClient } from '../clients/pendo/client';
import { loadRelayConfigFile, type RelayConfigFile } from '../config/conversion-events';
import type { PendoConfig } from '../domain/pendo/config';
import { PENDO_HOSTS, PendoFailure } from '../domain/pendo/types';
import { applyCallsSchedule, CALLS_SCHEDULE_ID, lastCompletedCallPull } from '../schedules/calls-hubspot-pull';
import {
  applyPendoSchedule,
  PENDO_SCHEDULE_ID,
  runningPendoImports,
  type ApplyOutcome,
} from '../schedules/pendo-import';
import { cm360Credentials, ConfigError, payloadKeys, type Env } from '../config/env';
import type { Cm360Timing } from '../domain/cm360/outcomes';
import { temporalConnectionSettings, type TemporalConnectionSettings } from '../temporal/connection';
import { payloadCodec, relayDataConverter } from '../temporal/data-converter';
import { deadlineBoundRetryInterceptor } from '../temporal/grpc-retry';
import { uploadTaskQueue } from '../domain/task-queues';
import { UploadShare, uploaderIdentity } from '../temporal/upload-share';
import { createRelayWorker, type RelayWorkerOptions, type RelayWorkers } from './relay-worker';

/** The payload codec of the configured keys; refuses to start without a current key. */
function relayCodec(env: Env) {
  const keys = payloadKeys(env);
  return payloadCodec(keys.current, keys.previous);
}

export function cm360TimingFrom(env: Env): Cm360Timing {
  return {
    enhanceDelayMs: env.CM360_ENHANCE_DELAY,
    notFoundWindowMs: env.CM360_NOT_FOUND_WINDOW,
    deadlineMs: env.CM360_DEADLINE,
    safetyMarginMs: env.CM360_DEADLINE_SAFETY_MARGIN,
  };
}

export interface RunningWorker {
  worker: RelayWorkers;
  /** This process's part of the vendor quotas, when it serves the uploads. */
  uploadShare?: UploadShare;
  /** Where the worker's /healthz, /readyz and /metrics answer. */
  healthUrl: string;
  /** Resolves when the worker stops. */
  done: Promise<void>;
  stop(): Promise<void>;
  /** Writes a line in the worker's log format (console where no logger was installed). */
  info(line: string): void;
}

/**
 * An integration without credentials still has its activities registered: they fail with a typed,
 * retryable "not configured" error, so an operator who adds the credentials within a day loses nothing.
 */
function notConfigured(type: string, what: string): never {
  throw ApplicationFailure.create({ type, message: `${what} is not configured`, nextRetryDelay: '15m' });
}

interface UploadPool {
  /** This process's part of the vendor's quota, and its turn among the uploaders (src/temporal/upload-share.ts). */
  setShare(share: number, turn?: { index: number; count: number }): Promise<void>;
  close(): Promise<void>;
}

function cm360Batchers(env: Env, metrics?: RelayMetrics): UploadPool & { batchers: Cm360Batchers } {
  const credentials = cm360Credentials(env);
  if (!credentials) {
    return {
      batchers: {
        forProfile: () => ({ enhance: () => notConfigured('Cm360NotConfigured', 'CM360 (CM360_* credentials)') }),
      },
      setShare: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const client = new Cm360Client({ apiRoot: env.CM360_API_ROOT, auth: createCm360Auth(credentials) });
  const pool = new Cm360BatcherPool({
    client,
    lingerMs: env.CM360_BATCH_LINGER,
    maxWaitMs: env.CM360_BATCH_MAX_WAIT,
    queriesPerSecond: env.CM360_QPS,
    dailyRequests: env.CM360_DAILY_REQUESTS,
    ...(metrics ? { observer: metrics.batchObserver('cm360', 'batchupdate', cm360RowOutcome) } : {}),
  });
  return { batchers: pool, setShare: (share, turn) => pool.setShare(share, turn), close: () => pool.close() };
}

/** One request budget for every HubSpot client of the process: they all spend the same app's quota. */
function hubSpotLimiter(env: Env): HubSpotRateLimiter {
  return new HubSpotRateLimiter(env.HUBSPOT_RATE_LIMIT);
}

function hubSpotCrm(env: Env, limiter: HubSpotRateLimiter): HubSpotActivityDeps['crm'] {
  if (!env.HUBSPOT_ACCESS_TOKEN) {
    const fail = () => notConfigured('HubSpotNotConfigured', 'HubSpot (HUBSPOT_ACCESS_TOKEN)');
    return { getContact: fail, getMostRecentDeal: fail };
  }
  return new HubSpotCrmClient({ accessToken: env.HUBSPOT_ACCESS_TOKEN, basePath: env.HUBSPOT_API_BASE, limiter });
}

function hubSpotRecords(env: Env, limiter: HubSpotRateLimiter): PendoActivityDeps['hubspot'] {
  if (!env.HUBSPOT_ACCESS_TOKEN) {
    const fail = () => notConfigured('HubSpotNotConfigured', 'HubSpot (HUBSPOT_ACCESS_TOKEN)');
    return { page: fail, propertyDefinitions: fail, count: fail };
  }
  return new HubSpotRecordReader({ accessToken: env.HUBSPOT_ACCESS_TOKEN, basePath: env.HUBSPOT_API_BASE, limiter });
}

/** The Pendo client: PENDO_API_BASE, else the host of the config's region. */
function pendoClient(env: Env, config: PendoConfig | undefined): PendoActivityDeps['pendo'] {
  if (!env.PENDO_INTEGRATION_KEY) {
    const fail = () => notConfigured(PendoFailure.NotConfigured, 'Pendo (PENDO_INTEGRATION_KEY)');
    return { writeMetadata: fail, customFields: fail };
  }
  const baseUrl = env.PENDO_API_BASE ?? PENDO_HOSTS[config?.region ?? 'us'];
  return new PendoClient({ baseUrl, integrationKey: env.PENDO_INTEGRATION_KEY });
}

/** The RELAY_CONFIG file's sections, or nothing when the variable is unset. */
function relayConfigFile(env: Env): RelayConfigFile | undefined {
  return env.RELAY_CONFIG ? loadRelayConfigFile(env.RELAY_CONFIG) : undefined;
}

interface GoogleAdsParts extends UploadPool {
  uploaders: GoogleAdsUploaders;
  calls: CallActivityDeps['googleAds'];
}

function googleAdsUploaders(env: Env, metrics?: RelayMetrics): GoogleAdsParts {
  const { GOOGLE_ADS_DEVELOPER_TOKEN: developerToken, GOOGLE_ADS_CLIENT_ID: clientId } = env;
  const { GOOGLE_ADS_CLIENT_SECRET: clientSecret, GOOGLE_ADS_REFRESH_TOKEN: refreshToken } = env;
  if (!developerToken || !clientId || !clientSecret || !refreshToken) {
    const fail = () => notConfigured(GoogleAdsFailure.NotConfigured, 'Google Ads (GOOGLE_ADS_* credentials)');
    return {
      uploaders: { uploadClick: fail, uploadEnhancement: fail },
      calls: { uploadCall: fail, findConversionActions: fail },
      setShare: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const endpoint = parseEndpoint(env.GOOGLE_ADS_ENDPOINT);
  const client = new GoogleAdsConversionClient({
    developerToken,
    clientId,
    clientSecret,
    refreshToken,
    validateOnly: env.GOOGLE_ADS_VALIDATE_ONLY,
    ...(endpoint ? { endpoint: { ...endpoint, insecure: true } } : {}),
  });
  const pool = new GoogleAdsBatcherPool({
    client,
    lingerMs: env.GOOGLE_ADS_BATCH_LINGER,
    maxWaitMs: env.GOOGLE_ADS_BATCH_MAX_WAIT,
    requestsPerSecond: env.GOOGLE_ADS_REQUESTS_PER_SECOND,
    ...(metrics
      ? { observerFor: (service: string) => metrics.batchObserver('google_ads', service, googleAdsRowOutcome) }
      : {}),
  });
  return {
    uploaders: pool,
    calls: {
      uploadCall: (row, options) => pool.uploadCall(row, options),
      findConversionActions: (customerId, loginCustomerId, names) =>
        client.findConversionActions(customerId, loginCustomerId, names),
    },
    setShare: (share) => pool.setShare(share),
    close: () => pool.close(),
  };
}

function hubSpotCalls(env: Env, limiter: HubSpotRateLimiter): CallActivityDeps['hubspot'] {
  if (!env.HUBSPOT_ACCESS_TOKEN) {
    const fail = () => notConfigured('HubSpotNotConfigured', 'HubSpot (HUBSPOT_ACCESS_TOKEN)');
    return { dispositions: fail, modifiedInboundCalls: fail, dealAmounts: fail };
  }
  return new HubSpotCallReader({ accessToken: env.HUBSPOT_ACCESS_TOKEN, basePath: env.HUBSPOT_API_BASE, limiter });
}

function hubSpotForms(env: Env, limiter: HubSpotRateLimiter): FormPollDeps['forms'] {
  if (!env.HUBSPOT_ACCESS_TOKEN) {
    return { newSubmissions: () => notConfigured('HubSpotNotConfigured', 'HubSpot (HUBSPOT_ACCESS_TOKEN)') };
  }
  return new HubSpotFormSubmissionReader({
    accessToken: env.HUBSPOT_ACCESS_TOKEN,
    basePath: env.HUBSPOT_API_BASE,
    limiter,
  });
}

function parseEndpoint(text: string | undefined): { host: string; port: number } | undefined {
  if (!text) return undefined;
  const m = /^([^:]+):(\d+)$/.exec(text);
  if (!m?.[1]) throw new ConfigError('GOOGLE_ADS_ENDPOINT must be host:port');
  return { host: m[1], port: Number(m[2]) };
}

/** /readyz: the namespace answers through this client's connection (address, TLS, credentials). */
function temporalReadiness(client: Client, namespace: string): Record<string, () => Promise<void>> {
  return {
    temporal: async () => {
      await client.connection.withDeadline(Date.now() + 1_500, () =>
        client.workflowService.describeNamespace({ namespace }),
      );
    },
  };
}

/** /readyz: the RELAY_CONFIG file still loads, so a restart would come up with it. */
function configReadiness(env: Env): Record<string, () => Promise<void>> {
  const path = env.RELAY_CONFIG;
  return {
    config: () => {
      try {
        if (path) loadRelayConfigFile(path);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(new Error(`RELAY_CONFIG no longer loads: ${(err as Error).message}`));
      }
    },
  };
}

/** Which of these workflows have closed (a workflow never started counts as closed: it will not report). */
async function closedWorkflows(client: Client, ids: string[]): Promise<string[]> {
  const states = await Promise.all(
    ids.map((id) =>
      client.workflow
        .getHandle(id)
        .describe()
        .then(
          (d) => (d.status.name === 'RUNNING' ? undefined : id),
          (err: unknown) => {
            if ((err as { name?: string }).name === 'WorkflowNotFoundError') return id;
            throw err;
          },
        ),
    ),
  );
  return states.filter((id): id is string => id !== undefined);
}

/**
 * Where Temporal is and how to reach it. `relay api` / `relay worker` load it from the whole environment
 * (TLS, mTLS, API key, a temporal.toml profile); without it (tests, npm start's local dev server) it is the
 * plaintext TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE of the parsed config.
 */
export function temporalSettings(env: Env, given?: TemporalConnectionSettings): TemporalConnectionSettings {
  return (
    given ??
    temporalConnectionSettings({ TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE })
  );
}

export interface StartWorkerOptions {
  /** The Temporal connection (see temporalSettings); default: the config's address and namespace, plaintext. */
  temporal?: TemporalConnectionSettings;
  /** Called with what applying each schedule did ('created', 'updated', 'unchanged', 'paused', 'absent'). */
  onSchedule?: (outcome: ApplyOutcome, scheduleId: string) => void;
  /** A prebuilt workflow bundle (bundleWorkflowCode): the worker then starts without running webpack. */
  workflowBundle?: RelayWorkerOptions['workflowBundle'];
  /** Where the start-up check of the Pendo properties reports what each run will skip (default: stderr). */
  warn?: (line: string) => void;
  /**
   * Install the Temporal runtime (`relay worker` does; tests, with their own runtime, do not): its log through
   * the relay's logger (RELAY_LOG_LEVEL, RELAY_LOG_FORMAT) and its Prometheus exporter on
   * 127.0.0.1:RELAY_SDK_METRICS_PORT, appended to /metrics. Once per process, before connecting.
   */
  installRuntime?: boolean;
}

/**
 * The Temporal runtime of `relay worker`: its log through the relay's logger, and its own metrics (worker task
 * slots, poll and schedule-to-start latencies, sticky cache) on Core's Prometheus exporter on loopback, which the
 * worker's /metrics reads and appends. Undefined when the exporter is off, or when the process already has a
 * runtime (both can only be set when the runtime is installed).
 */
function installRelayRuntime(env: Env, log: Logger, warn: (line: string) => void): (() => Promise<string>) | undefined {
  const port = env.RELAY_SDK_METRICS_PORT;
  const bindAddress = `127.0.0.1:${port}`;
  try {
    Runtime.install({
      logger: temporalLogger(log),
      ...(port === 0
        ? {}
        : {
            telemetryOptions: {
              metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } },
            },
          }),
    });
  } catch (err) {
    warn(`the Temporal SDK's runtime was installed already (no SDK metrics): ${(err as Error).message}`);
    return undefined;
  }
  if (port === 0) return undefined;
  return async () => {
    const res = await fetch(`http://${bindAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  };
}

/**
 * At start, every chosen Pendo property is checked against HubSpot's property definitions, so an unknown or
 * untranslatable one is named before the first night (each run checks again and skips it). Never fatal.
 */
async function checkPendoProperties(pendo: PendoActivityDeps, warn: (line: string) => void): Promise<void> {
  if (!pendo.config) return;
  try {
    const plan = await createPendoActivities(pendo).planPendoImport();
    for (const level of plan.levels) {
      if (level.error) warn(`pendo ${level.level}: ${level.error.detail}; this level will fail until it exists`);
      for (const f of level.skipped) warn(`pendo ${level.level}: property "${f.name}" is skipped: ${f.detail}`);
    }
  } catch (err) {
    warn(`pendo: the chosen properties could not be checked against HubSpot now (${(err as Error).message})`);
  }
}

/** The schedules the worker keeps in line with the config: the Pendo night, the call pull, the form polls. */
async function applySchedules(
  client: Client,
  env: Env,
  file: RelayConfigFile | undefined,
  onSchedule: StartWorkerOptions['onSchedule'],
): Promise<void> {
  // The nightly schedule follows the config: created, updated when the zone or window changed, paused without it.
  const outcome = await applyPendoSchedule(client, { taskQueue: env.RELAY_TASK_QUEUE, config: file?.pendo });
  onSchedule?.(outcome, PENDO_SCHEDULE_ID);
  // The call pull follows `calls.hubspot` the same way.
  const calls = await applyCallsSchedule(client, { taskQueue: env.RELAY_TASK_QUEUE, config: file?.calls });
  onSchedule?.(calls, CALLS_SCHEDULE_ID);
  // One poll of HubSpot's form submissions per form definition (Flow B without a custom webhook).
  const forms = await applyFormPollSchedules(client, {
    taskQueue: env.RELAY_TASK_QUEUE,
    config: file?.conversionEvents,
    safetyMarginMs: env.GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN,
  });
  for (const f of forms) onSchedule?.(f.outcome, f.scheduleId);
}

export async function startWorker(env: Env, opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  const codec = relayCodec(env);
  const file = relayConfigFile(env);
  const metrics = new RelayMetrics();
  const cm360 = cm360Batchers(env, metrics);
  const googleAds = googleAdsUploaders(env, metrics);
  const limiter = hubSpotLimiter(env);
  const circuits = new OutageCircuits();
  const temporal = temporalSettings(env, opts.temporal);
  // `relay worker`: one logger for the relay's lines and the SDK's (see installRelayRuntime).
  const log = opts.installRuntime
    ? createLogger({ level: env.RELAY_LOG_LEVEL, format: env.RELAY_LOG_FORMAT, name: 'worker' })
    : undefined;
  const warn = opts.warn ?? (log ? (line: string) => log.warn(line) : (line: string) => console.warn(line));
  const sdkMetrics = log ? installRelayRuntime(env, log, warn) : undefined;
  const connection = await NativeConnection.connect(temporal.workerOptions);
  const dataConverter = relayDataConverter(codec);
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter });
  const pendoDeps: PendoActivityDeps = {
    config: file?.pendo,
    hubspot: hubSpotRecords(env, limiter),
    pendo: pendoClient(env, file?.pendo),
    runningImports: () => runningPendoImports(client),
    circuits,
  };
  const roles = env.RELAY_WORKER_ROLES;
  const uploadIdentity = uploaderIdentity();
  const worker = await createRelayWorker({
    // SIGTERM sends what the batchers hold at once (stop() closes them), then lets the requests come back.
    batchLingerMs: Math.max(env.CM360_BATCH_LINGER, env.GOOGLE_ADS_BATCH_LINGER),
    connection,
    namespace: temporal.namespace,
    taskQueue: env.RELAY_TASK_QUEUE,
    roles,
    uploadSlots: env.RELAY_UPLOAD_SLOTS,
    uploadIdentity,
    dataConverter,
    // One circuit per vendor account for the whole process: a credentials outage parks every conversion of it.
    cm360: { batchers: cm360.batchers, circuits },
    hubspot: { crm: hubSpotCrm(env, limiter), defaultRegion: env.RELAY_DEFAULT_PHONE_REGION, circuits },
    googleAds: { uploaders: googleAds.uploaders, circuits },
    pendo: pendoDeps,
    calls: {
      config: file?.calls,
      googleAds: googleAds.calls,
      hubspot: hubSpotCalls(env, limiter),
      lastPull: () => (file?.calls ? lastCompletedCallPull(client, file.calls.customerId) : Promise.resolve(undefined)),
      closedWorkflows: (ids) => closedWorkflows(client, ids),
      // relayCodec above has refused to start without it.
      payloadKey: env.RELAY_PAYLOAD_KEY ?? '',
      circuits,
    },
    forms: {
      forms: hubSpotForms(env, limiter),
      defaultRegion: env.RELAY_DEFAULT_PHONE_REGION,
      lastPoll: (definitionId) => lastCompletedFormPoll(client, definitionId),
    },
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : {}),
  });
  if (roles.includes('workflows')) {
    void checkPendoProperties(pendoDeps, warn);
    await applySchedules(client, env, file, opts.onSchedule);
  }
  // Every process serving the uploads runs at its part of each vendor quota (one process alone has all of it).
  const uploadShare = roles.includes('uploads')
    ? new UploadShare({
        service: client.workflowService,
        namespace: temporal.namespace,
        taskQueue: uploadTaskQueue(env.RELAY_TASK_QUEUE),
        identity: uploadIdentity,
        refreshMs: env.RELAY_UPLOAD_SHARE_REFRESH,
        // CM360's requests also take turns: a slot of its QPS each, so no two processes send in the same second.
        onShare: (share, count, index) =>
          void Promise.all([cm360.setShare(share, { index, count }), googleAds.setShare(share)]),
        warn,
      })
    : undefined;
  registerCircuitMetrics(metrics.registry, circuits);
  const health = buildHealthServer(
    {
      worker: () => {
        const state = worker.getState();
        return state === 'RUNNING' ? Promise.resolve() : Promise.reject(new Error(`the worker is ${state}`));
      },
      ...temporalReadiness(client, temporal.namespace),
      ...configReadiness(env),
    },
    { registry: metrics.registry, ...(sdkMetrics ? { more: sdkMetrics } : {}) },
  );
  const done = worker.run().finally(async () => {
    uploadShare?.stop();
    await health.close();
    await Promise.all([cm360.close(), googleAds.close()]);
    await connection.close();
  });
  uploadShare?.start();
  const healthUrl = await health.listen({ port: env.RELAY_WORKER_HTTP_PORT, host: env.RELAY_HTTP_HOST });
  return {
    worker,
    ...(uploadShare ? { uploadShare } : {}),
    healthUrl,
    done,
    info: (line) => (log ? log.info(line) : console.log(line)),
    async stop() {
      worker.shutdown();
      // What the batchers hold leaves now instead of after its linger; the running uploads then get its answer.
      void Promise.all([cm360.close(), googleAds.close()]);
      await done;
    },
  };
}

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startApi(
  env: Env,
  opts: { temporal?: TemporalConnectionSettings; logDestination?: DestinationStream } = {},
): Promise<RunningApi> {
  if (!env.RELAY_API_KEY) throw new ConfigError('RELAY_API_KEY is required: the bearer key callers of the api send');
  const codec = relayCodec(env);
  const settings = temporalSettings(env, opts.temporal);
  // The api answers within its start deadlines even while Temporal is down: no retry past a call's deadline.
  const connection = await Connection.connect({
    ...settings.clientOptions,
    interceptors: [deadlineBoundRetryInterceptor()],
  });
  const metrics = new RelayMetrics();
  const temporal = new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: relayDataConverter(codec),
    interceptors: { workflow: [workflowStartMetrics(metrics)] },
  });
  const file = relayConfigFile(env);
  const events = file?.conversionEvents ? { config: file.conversionEvents, warnings: file.warnings } : undefined;
  const app = buildApi({
    apiKey: env.RELAY_API_KEY,
    maxBodyBytes: env.RELAY_MAX_BODY_BYTES,
    trustProxy: env.RELAY_TRUST_PROXY,
    log: createLogger({
      level: env.RELAY_LOG_LEVEL,
      format: env.RELAY_LOG_FORMAT,
      name: 'api',
      ...(opts.logDestination ? { destination: opts.logDestination } : {}),
    }),
    metrics,
    cm360: {
      temporal,
      taskQueue: env.RELAY_TASK_QUEUE,
      profileId: env.CM360_PROFILE_ID,
      timing: cm360TimingFrom(env),
      defaultRegion: env.RELAY_DEFAULT_PHONE_REGION,
    },
    hubspot: events
      ? {
          temporal,
          taskQueue: env.RELAY_TASK_QUEUE,
          clientSecret: env.HUBSPOT_CLIENT_SECRET,
          publicUrl: env.RELAY_PUBLIC_URL,
          conversionEvents: events.config,
          defaultRegion: env.RELAY_DEFAULT_PHONE_REGION,
          enhancementSafetyMarginMs: env.GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN,
        }
      : undefined,
    codec: env.RELAY_SERVE_CODEC
      ? { codec, corsOrigins: env.RELAY_CODEC_CORS_ORIGINS, token: env.RELAY_CODEC_TOKEN }
      : undefined,
    readiness: { ...temporalReadiness(temporal, settings.namespace), ...configReadiness(env) },
    pendo: {
      temporal,
      taskQueue: env.RELAY_TASK_QUEUE,
      config: file?.pendo,
      clients: { hubspot: hubSpotRecords(env, hubSpotLimiter(env)), pendo: pendoClient(env, file?.pendo) },
    },
    calls: {
      temporal,
      taskQueue: env.RELAY_TASK_QUEUE,
      config: file?.calls,
      // relayCodec above has refused to start without it.
      payloadKey: env.RELAY_PAYLOAD_KEY ?? '',
      maxBodyBytes: env.RELAY_MAX_CALLS_FILE_BYTES,
    },
  });
  for (const w of file?.warnings ?? []) app.log.warn(`${env.RELAY_CONFIG}: ${w.path}: ${w.message}`);
  const url = await app.listen({ port: env.RELAY_HTTP_PORT, host: env.RELAY_HTTP_HOST });
  return {
    app,
    url,
    async stop() {
      await app.close();
      await connection.close();
    },
  };
}
