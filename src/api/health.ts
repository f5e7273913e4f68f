// Liveness and readiness, for the api and the worker alike. /healthz: the process answers (restart it when it
// does not). /readyz: it can do its work now (Temporal reachable, config loadable); take it out of rotation
// when it cannot. Neither needs the api key, and neither names a secret. The worker's /metrics answers beside them.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** Each check resolves when all is well, or rejects saying what is wrong. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

const READINESS_TIMEOUT_MS = 2_000;

/** Every check's outcome ('ok' or what is wrong), none waited on longer than the timeout. */
export async function runReadiness(
  checks: ReadinessChecks,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, (err as Error).message] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: entries.every(([, v]) => v === 'ok'), checks: Object.fromEntries(entries) };
}

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessChecks): void {
  app.get('/healthz', (_request, reply) => reply.send({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks: outcome } = await runReadiness(checks);
    return reply.code(ready ? 200 : 503).send({ ready, checks: outcome });
  });
}

/**
 * GET /metrics: the registry in Prometheus' text format, then what `more` adds (the SDK's exporter), so one
 * scrape has both. No api key: counts, flows, codes and account ids, nothing personal.
 */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry, more?: () => Promise<string>): void {
  app.get('/metrics', async (_request, reply) => {
    const own = await registry.metrics();
    const extra = more ? await more().catch(() => '') : '';
    return reply.header('content-type', registry.contentType).send(extra ? `${own}\n${extra}` : own);
  });
}

/** The worker's HTTP face: health and metrics only (no api key, no routes that act). */
export function buildHealthServer(
  checks: ReadinessChecks,
  metrics?: { registry: Registry; more?: () => Promise<string> },
): FastifyInstance {
  const app = Fastify({ logger: false });
  registerHealthRoutes(app, checks);
  if (metrics) registerMetricsRoute(app, metrics.registry, metrics.more);
  return app;
}
