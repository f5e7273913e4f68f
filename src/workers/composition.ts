// Composition roots: turn a parsed configuration into running processes. Only src/cli hands them
// process.env (through loadConfig); nothing below reads the environment.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { createCm360Auth } from '../clients/cm360/auth';
import { Cm360BatcherPool } from '../clients/cm360/batcher';
import { Cm360Client } from '../clients/cm360/client';
import { cm360Credentials, ConfigError, type Env } from '../config/env';
import type { Cm360Timing } from '../domain/cm360/outcomes';
import { codecFromKey, relayDataConverter } from '../temporal/data-converter';
import { createRelayWorker } from './relay-worker';

export function cm360TimingFrom(env: Env): Cm360Timing {
  return {
    enhanceDelayMs: env.CM360_ENHANCE_DELAY,
    notFoundWindowMs: env.CM360_NOT_FOUND_WINDOW,
    deadlineMs: env.CM360_DEADLINE,
    safetyMarginMs: env.CM360_DEADLINE_SAFETY_MARGIN,
  };
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker stops. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorker(env: Env): Promise<RunningWorker> {
  const codec = codecFromKey(env.RELAY_PAYLOAD_KEY_ID, env.RELAY_PAYLOAD_KEY);
  const credentials = cm360Credentials(env);
  if (!credentials) {
    throw new ConfigError(
      'CM360 credentials missing: set CM360_SERVICE_ACCOUNT_KEY_FILE, the CM360_OAUTH_* trio, or CM360_ACCESS_TOKEN (emulators)',
    );
  }
  const client = new Cm360Client({ apiRoot: env.CM360_API_ROOT, auth: createCm360Auth(credentials) });
  const batchers = new Cm360BatcherPool({ client, lingerMs: env.CM360_BATCH_LINGER, queriesPerSecond: env.CM360_QPS });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const worker = await createRelayWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.RELAY_TASK_QUEUE,
    dataConverter: relayDataConverter(codec),
    cm360: { batchers },
  });
  const done = worker.run().finally(async () => {
    await batchers.close();
    await connection.close();
  });
  return {
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startApi(env: Env): Promise<RunningApi> {
  if (!env.RELAY_API_KEY) throw new ConfigError('RELAY_API_KEY is required: the bearer key callers of the api send');
  const codec = codecFromKey(env.RELAY_PAYLOAD_KEY_ID, env.RELAY_PAYLOAD_KEY);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const temporal = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: relayDataConverter(codec),
  });
  const app = buildApi({
    apiKey: env.RELAY_API_KEY,
    maxBodyBytes: env.RELAY_MAX_BODY_BYTES,
    logger: { level: 'info' },
    cm360: {
      temporal,
      taskQueue: env.RELAY_TASK_QUEUE,
      profileId: env.CM360_PROFILE_ID,
      timing: cm360TimingFrom(env),
      defaultRegion: env.RELAY_DEFAULT_PHONE_REGION,
    },
    codec: env.RELAY_SERVE_CODEC ? { codec, corsOrigins: env.RELAY_CODEC_CORS_ORIGINS } : undefined,
  });
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
