// The HTTP api: authentication, body limits and error shapes shared by every route.
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bearerMatches } from './auth';
import { registerCallRoutes, type CallRouteOptions } from './calls-routes';
import { registerCm360Routes, type Cm360RouteOptions } from './cm360-routes';
import { redactCodecPath, registerCodecRoutes } from './codec-routes';
import { registerEventMetrics } from './event-metrics';
import { registerHealthRoutes, registerMetricsRoute, type ReadinessChecks } from './health';
import type { RelayMetrics } from '../metrics/relay';
import { registerJsonBodies } from './json-body';
import { registerHubSpotRoutes, type HubSpotRouteOptions } from './hubspot-routes';
import { registerPendoRoutes, type PendoRouteOptions } from './pendo-routes';

export interface ApiOptions {
  apiKey: string;
  maxBodyBytes: number;
  cm360: Cm360RouteOptions;
  /** HubSpot webhooks (Flows A and B); absent when no conversion events are configured. */
  hubspot?: Omit<HubSpotRouteOptions, 'apiKey'>;
  /**
   * Serve /codec/{encode,decode} for the Web UI and CLI, to holders of `token` (header or path) or of the api
   * key (header).
   */
  codec?: { codec: PayloadCodec; corsOrigins: string[]; token?: string };
  /** What /readyz checks beyond the process being up: each check resolves, or rejects saying what is wrong. */
  readiness?: ReadinessChecks;
  /** The Pendo import's routes; without a config they answer 503 saying what is missing. */
  pendo?: PendoRouteOptions;
  /** Call conversion imports (Flow C); without a config they answer 503 saying what is missing. */
  calls?: CallRouteOptions;
  /**
   * The process's logger (src/logging/logger.ts): every request is one line at debug, so a Web UI decoding
   * payloads writes nothing at info. Without one the api logs nothing.
   */
  log?: Logger;
  /** The process's metrics: what the routes received and refused, served on GET /metrics. */
  metrics?: RelayMetrics;
  /**
   * Fastify's trustProxy (RELAY_TRUST_PROXY): whose X-Forwarded-Proto, -Host and -For make request.protocol,
   * request.host and request.ip. Default false: the connection's own, whatever a caller claims.
   */
  trustProxy?: boolean | string[];
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
export function buildApi(opts: ApiOptions): FastifyInstance {
  // Fastify's own two lines a request are off (logController); the onResponse hook below writes one, at debug,
  // with method, path (the codec token a Web UI puts there masked), status and time: no headers, no bodies.
  const app: FastifyInstance = Fastify({
    bodyLimit: opts.maxBodyBytes,
    // Everything that reads the caller's scheme or host (the URL a HubSpot signature covers, and the URL a 401
    // says it checked) goes through request.protocol and request.host, so one setting decides for all of it.
    trustProxy: opts.trustProxy ?? false,
    ...(opts.log
      ? {
          loggerInstance: opts.log as unknown as FastifyBaseLogger,
          logController: new LogController({ disableRequestLogging: true }),
        }
      : { logger: false }),
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug(
      {
        method: request.method,
        url: redactCodecPath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });

  registerJsonBodies(app);

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ code: err.code }, 'request failed');
    // A route may take more than the default (the call-conversion file does): name the limit that applied.
    const limit = request.routeOptions.bodyLimit ?? opts.maxBodyBytes;
    const message = status === 413 ? `body larger than ${limit} bytes` : status < 500 ? err.message : 'internal error';
    return reply.code(status).send({ error: message });
  });

  // onRequest runs before the body is read: an unauthenticated caller costs no parsing.
  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0] ?? '';
    // HubSpot webhooks carry HubSpot's signature instead of our key; their routes verify it.
    const open =
      PUBLIC_PATHS.has(path) ||
      (opts.codec !== undefined && path.startsWith('/codec/')) ||
      (opts.hubspot !== undefined && path.startsWith('/webhooks/hubspot'));
    if (open || bearerMatches(request.headers.authorization, opts.apiKey)) return done();
    void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or wrong API key' });
  });

  registerHealthRoutes(app, opts.readiness ?? {});
  if (opts.metrics) {
    registerEventMetrics(app, opts.metrics);
    registerMetricsRoute(app, opts.metrics.registry);
  }
  registerCm360Routes(app, opts.cm360);
  if (opts.codec) {
    const { token, ...codec } = opts.codec;
    registerCodecRoutes(app, {
      ...codec,
      tokens: [token, opts.apiKey].filter((t) => !!t) as string[],
      pathToken: token,
    });
  }
  if (opts.hubspot) registerHubSpotRoutes(app, { ...opts.hubspot, apiKey: opts.apiKey });
  if (opts.pendo) registerPendoRoutes(app, opts.pendo);
  if (opts.calls) registerCallRoutes(app, opts.calls);
  return app;
}
