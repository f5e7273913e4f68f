// The deployment files agree with the code: docker-compose.yml, the Dockerfile, Prometheus' scrape config and the
// Grafana dashboard (deploy/). The dashboard queries only metrics the relay defines (RELAY_METRICS), Prometheus
// scrapes the ports the processes listen on, and the Web UI reaches the api's codec with its token.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/env';
import { RELAY_METRICS } from '../../src/metrics/names';
import { RELAY_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  restart?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  ports?: string[];
  volumes?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  assert.ok(s, `docker-compose.yml has no service ${name}`);
  return s;
};

/** A value as docker compose reads it with none of the variables set: `${NAME:-default}` is its default. */
const unset = (value: string | undefined) =>
  value?.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_, d?: string) => d ?? '');

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; port: number }[];
}
const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };

interface Panel {
  title?: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
  datasource?: { uid: string };
}
const DASHBOARD = 'deploy/grafana/dashboards/martech-relay.json';
const dashboard = JSON.parse(read(DASHBOARD)) as { uid: string; panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;
const relayNames = new Set<string>(Object.values(RELAY_METRICS));
/** The RELAY_METRICS name a queried series belongs to (a histogram's _bucket, _sum and _count are its own). */
const metricOf = (series: string) => (relayNames.has(series) ? series : series.replace(HISTOGRAM_SERIES, ''));

describe('the Grafana dashboard', () => {
  test('queries only relay_* metrics the relay defines, and every one of them', () => {
    const queried = new Set(exprs.flatMap((e) => e.match(/\brelay_[a-z0-9_]+/g) ?? []));
    const unknown = [...queried].filter((s) => !relayNames.has(metricOf(s)));
    assert.deepEqual(unknown, [], `not in RELAY_METRICS (src/metrics/names.ts): ${unknown.join(', ')}`);
    const shown = new Set([...queried].map(metricOf));
    const missing = [...relayNames].filter((n) => !shown.has(n));
    assert.deepEqual(missing, [], `metrics the dashboard does not show: ${missing.join(', ')}`);
  });

  test('shows uploads per vendor and code, batch fill, quota waits, circuits and the workflow backlog', () => {
    const uses = (pattern: RegExp) => exprs.some((e) => pattern.test(e));
    assert.ok(uses(/by \(vendor, service, outcome, code\) \(increase\(relay_rows_total\b/));
    assert.ok(uses(/relay_workflows_started_total/));
    assert.ok(uses(/relay_batch_rows_(sum|bucket)/));
    assert.ok(uses(/relay_quota_wait_seconds_(sum|bucket)/));
    assert.ok(uses(/relay_circuit_open\b/));
    assert.ok(uses(/temporal_(workflow_task|activity)_schedule_to_start_latency_bucket/));
    assert.ok(uses(/approximate_backlog_count/));
  });

  test('every panel uses the provisioned Prometheus data source', () => {
    const provisioned = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    const [source] = provisioned.datasources;
    assert.ok(source);
    assert.equal(source.url, 'http://prometheus:9090');
    for (const p of panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, source.uid, `panel "${p.title}"`);
    }
  });

  test('is provisioned from the folder docker-compose.yml mounts', () => {
    const providers = parse(read('deploy/grafana/provisioning/dashboards/relay.yml')) as {
      providers: { options: { path: string } }[];
    };
    const path = providers.providers[0]?.options.path;
    const grafana = service('grafana');
    assert.ok(grafana.volumes?.includes(`./deploy/grafana/dashboards:${path}:ro`), String(grafana.volumes));
    assert.ok(grafana.volumes?.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
    assert.equal(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, `${path}/martech-relay.json`);
  });
});

describe('Prometheus', () => {
  const targets = (job: ScrapeConfig) => [
    ...(job.static_configs ?? []).flatMap((c) => c.targets),
    ...(job.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
  ];
  const scraped = prometheus.scrape_configs.flatMap((job) =>
    targets(job).map((t) => `${t}${job.metrics_path ?? '/metrics'}`),
  );

  test("scrapes the api's and every worker's /metrics on the ports they listen on", () => {
    const env = loadConfig({});
    assert.ok(scraped.includes(`api:${env.RELAY_HTTP_PORT}/metrics`), scraped.join(' '));
    assert.ok(scraped.includes(`worker:${env.RELAY_WORKER_HTTP_PORT}/metrics`), scraped.join(' '));
    // A scaled-out worker service is several containers: DNS discovery finds each, a static target only one.
    const worker = prometheus.scrape_configs.find((j) => targets(j).some((t) => t.startsWith('worker:')));
    assert.ok(worker?.dns_sd_configs, 'the workers are found by DNS');
  });

  test("scrapes the Temporal server's metrics where docker-compose.yml exposes them", () => {
    const endpoint = service('temporal').environment?.PROMETHEUS_ENDPOINT;
    assert.ok(endpoint);
    assert.ok(scraped.includes(`temporal:${endpoint.split(':').at(-1)}/metrics`), scraped.join(' '));
  });

  test('reads the config docker-compose.yml mounts', () => {
    const prom = service('prometheus');
    assert.ok(prom.volumes?.includes('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  });
});

describe('docker-compose.yml', () => {
  test('the api and the worker have health checks on their own command and restart unless stopped', () => {
    for (const name of ['api', 'worker']) {
      const s = service(name);
      assert.deepEqual(s.command, [name]);
      assert.equal(s.restart, 'unless-stopped', name);
      assert.deepEqual(s.healthcheck?.test, ['CMD', 'node', 'deploy/healthcheck.mjs', name]);
      assert.equal(s.environment?.RELAY_HTTP_HOST, '0.0.0.0', `${name} must be reachable by Prometheus`);
    }
  });

  test('every long-running service restarts; the one-shot setup does not', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.equal(s.restart, name === 'temporal-setup' ? 'no' : 'unless-stopped', name);
    }
  });

  test("the Web UI's codec endpoint is the api's /codec/t/<token>/ path, served and allowed for the UI's origin", () => {
    const ui = service('temporal-ui');
    const api = service('api');
    const apiPort = api.ports?.map((p) => p.split(':')).find(([, inner]) => inner === '8080')?.[0];
    const endpoint = ui.environment?.TEMPORAL_CODEC_ENDPOINT;
    assert.equal(unset(endpoint), `http://localhost:${apiPort}/codec/t/set-RELAY_CODEC_TOKEN`);
    assert.match(read('src/api/codec-routes.ts'), /\/codec\/t\//);
    // The UI's token and the api's are the one variable of .env.
    assert.match(endpoint ?? '', /\/codec\/t\/\$\{RELAY_CODEC_TOKEN\b/);
    assert.match(api.environment?.RELAY_CODEC_TOKEN ?? '', /^\$\{RELAY_CODEC_TOKEN\b/);
    assert.equal(unset(api.environment?.RELAY_SERVE_CODEC), 'true');
    const uiPort = ui.ports?.[0]?.split(':')[0];
    const origins = unset(api.environment?.RELAY_CODEC_CORS_ORIGINS)?.split(',') ?? [];
    assert.ok(origins.includes(`http://localhost:${uiPort}`), origins.join(','));
  });

  // The Temporal CLI's spelling of the SDK's types.
  const CLI_TYPES: Record<string, string> = { KEYWORD: 'Keyword', DATETIME: 'Datetime' };

  test('the namespace keeps closed workflows 90 days and gets every search attribute of the relay', () => {
    assert.equal(unset(service('temporal').environment?.DEFAULT_NAMESPACE_RETENTION), '90d');
    const setup = [service('temporal-setup').command ?? ''].flat().join(' ');
    assert.match(setup, /--retention 90d/);
    for (const key of RELAY_SEARCH_ATTRIBUTES) {
      const type = CLI_TYPES[key.type] ?? key.type;
      assert.ok(setup.includes(`${key.name}:${type}`), `${key.name} (${key.type}) is not registered`);
    }
  });

  test('the api and the worker run one image', () => {
    assert.equal(service('api').image, service('worker').image);
  });

  test('passes `docker-compose config -q`', (t) => {
    const which = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (which.error) {
      t.skip('docker-compose is not on PATH');
      return;
    }
    const run = spawnSync('docker-compose', ['config', '-q'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  });
});

describe('the Dockerfile', () => {
  const stages = read('Dockerfile')
    .split(/^FROM /m)
    .slice(1);
  const runtime = stages.at(-1) ?? '';

  test('builds in one stage and runs compiled code with production dependencies in another', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.match(stages[0] ?? '', /RUN npm run build/);
    assert.match(runtime, /RUN npm ci --omit=dev/);
    assert.match(runtime, /COPY --from=build \/app\/dist \.\/dist/);
    assert.doesNotMatch(runtime, /COPY (\.\/)?src\b/, 'no TypeScript sources in the image');
    assert.match(runtime, /ENTRYPOINT \["node", "dist\/cli\/main\.js"\]/);
  });

  test('runs as a non-root user, with a health check', () => {
    const user = runtime.match(/^USER (\S+)/m)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
    assert.match(runtime, /^HEALTHCHECK .*CMD \["node", "deploy\/healthcheck\.mjs"\]/m);
    assert.match(runtime, /COPY deploy\/healthcheck\.mjs/);
  });

  test('keeps the build context small', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', '.git', '.temporal', '.data', '.env']) {
      assert.ok(ignored.includes(entry), entry);
    }
  });
});

describe('deploy/healthcheck.mjs', () => {
  let server: Server;
  let port: number;
  let status = 200;
  before(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? status : 404;
      res.end(status === 200 ? '{"status":"ready"}' : '{"status":"not ready","checks":{"temporal":"down"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const check = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'deploy', 'healthcheck.mjs'), ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });

  test("checks the worker's port for `worker` and the api's for `api`", async () => {
    status = 200;
    const env = { RELAY_WORKER_HTTP_PORT: String(port), RELAY_HTTP_PORT: '1' };
    assert.equal((await check(['worker'], env)).code, 0);
    assert.equal((await check(['api'], env)).code, 1);
    assert.equal((await check(['api'], { RELAY_HTTP_PORT: String(port) })).code, 0);
  });

  test('fails on a 503 and says why', async () => {
    status = 503;
    const result = await check(['worker'], { RELAY_WORKER_HTTP_PORT: String(port) });
    assert.equal(result.code, 1);
    assert.match(result.out, /503 .*temporal/);
  });

  test('without a command, either process answering will do', async () => {
    status = 200;
    assert.equal((await check([], { RELAY_HTTP_PORT: String(port), RELAY_WORKER_HTTP_PORT: '1' })).code, 0);
  });

  test('exists where the image copies it from', () => {
    assert.ok(existsSync(join(root, 'deploy', 'healthcheck.mjs')));
  });
});
