// `relay <command>`: the command-line composition root. It alone hands process.env to loadConfig.
import { parseArgs } from 'node:util';
import { msToNumber } from '@temporalio/common/lib/time';
import { ConfigError, loadConfig } from '../config/env';
import { Client, Connection } from '@temporalio/client';
import { loadRelayConfigFile } from '../config/conversion-events';
import { payloadKeys, type Env } from '../config/env';
import { describeTemporalConnection, temporalConnectionSettings } from '../temporal/connection';
import { applyCallsSchedule, CALLS_SCHEDULE_ID } from '../schedules/calls-hubspot-pull';
import { applyPendoSchedule, PENDO_SCHEDULE_ID } from '../schedules/pendo-import';
import { payloadCodec, relayDataConverter } from '../temporal/data-converter';
import { startApi, startWorker } from '../workers/composition';
// dev-stack and the sandbox modules imported here load no emulator: those come through ../sandbox/lazy.
import {
  DEFAULT_RELAY_CONFIG,
  DEV_API_KEY,
  DEV_HUBSPOT_SECRET,
  runDevStack,
  StackAlreadyRunningError,
} from '../workers/dev-stack';
import { projectRoot } from '../dev/temporal-binaries';
import { GOOGLE_ADS_CONTROL_PORT_OFFSET } from '../sandbox/catalog';
import { loadCm360Emulator, loadGoogleAdsEmulator, loadHubSpotEmulator, loadPendoEmulator } from '../sandbox/lazy';
import { readSandboxStackFile, stackDataDir } from '../sandbox/stack-file';
import { ControlError, runCm360Conversions, runSandboxFault, runSandboxFaults, sandboxTargets } from './sandbox';
import {
  FORMS_PATH,
  LIFECYCLE_PATH,
  lifecycleEvent,
  readBody,
  runHubSpotSend,
  runHubSpotSign,
  type HubSpotTarget,
} from './hubspot';
import { ApiCallError, runPendoPreview, runPendoStatus, runPendoSync, type ApiTarget } from './pendo';
import { runCallsImport, runCallsPull, runCallsReport } from './calls';
import { runEventsList, runEventsValidate } from './events';
import { collectStats, statsTable } from './stats';
import { runIdentifiersHash } from './identifiers-hash';
import { demoStack, runDemo } from './demo';

const USAGE = `usage: relay <command>

  start                 the whole local stack (Temporal dev server + Web UI, worker, api, sandboxes)
  api                   the HTTP api only (production: Temporal elsewhere)
  worker                the Temporal worker only
  sandbox cm360 [--port N] [--index-delay 90m]
                        the CM360 batchupdate emulator
  sandbox hubspot [--port N]
                        the HubSpot CRM emulator, with demo contacts and deals
  sandbox google-ads [--port N] [--control-port N]
                        the Google Ads gRPC emulator (ConversionUploadService, ConversionAdjustmentUploadService),
                        with an HTTP control port for its faults (default: the gRPC port + 1000)
  sandbox pendo [--port N]
                        the Pendo metadata API emulator, with the demo visitors and accounts
  sandbox faults        every emulator's faults, one line each, and what is set now on the running stack's
  sandbox fault <cm360|hubspot|google-ads|pendo> <fault> [key=value ...] [--count N | --for 30s]
                        set a fault on a running emulator (npm start's, found through sandbox.json in
                        RELAY_DATA_DIR, default .data/, or <EMULATOR>_SANDBOX_URL); "sandbox fault <emulator> clear" clears it
  sandbox cm360 conversions [reset] [--json] [--exactly-once]
                        the CM360 emulator's record: per conversion, rows sent and each outcome, and how many
                        were enhanced once, more than once, never; reset forgets it
  pendo sync [--wait]   run the HubSpot → Pendo import now (through the api); --wait follows it to the end
  pendo status [--json] the last finished import, the running one, and the next nightly start
  pendo preview [--level visitor|account] [--limit N] [--json]
                        each chosen property's Pendo type and the exact payload of a few records; writes nothing
  pendo schedule apply  create or update the nightly schedule from RELAY_CONFIG (the worker does this at start)
  calls import FILE.csv|FILE.json [--wait]
                        import call conversions into Google Ads (through the api); --wait shows progress and a summary
  calls report ID [--failed] [--json]
                        an import's outcome; --failed writes its refused rows as the template's CSV with a Reason column
  calls pull [--wait] [--json]
                        run the HubSpot calls pull now (through the api); --wait follows it and its import
  calls schedule apply  create or update the HubSpot calls pull's schedule from RELAY_CONFIG (the worker does this at start)
  events list [file]    the conversion event definitions (default: RELAY_CONFIG, else npm start's
                        examples/conversion-events.yaml) and their status
  events validate [file]
                        every problem of a definitions file; exit 1 on errors
  identifiers hash      JSON lines of plaintext user data on stdin → CM360 userIdentifiers on stdout
  demo [--no-wait] [--timeout 3m] [--json]
                        against the running npm start stack: every flow with signed demo events, one plain success
                        and one failure path each, followed to their outcome; prints the Web UI links and saved queries
  stats [--since 24h] [--json]
                        per flow, the workflows started since then by execution status, how many went the
                        plain way, and the others by RelayStatus / RelayReason (Temporal visibility only)
  hubspot send lifecycle --contact ID --stage STAGE [--portal ID] [--occurred-at TIME]
                        a lifecycle-stage change as HubSpot's webhook sends it, signed v3 (HUBSPOT_CLIENT_SECRET)
  hubspot send form FILE.json
                        a form submission to the forms endpoint, signed v3
  hubspot sign [--path /webhooks/hubspot] [--method POST] [FILE|-]
                        the v3 signature headers of a body, for a curl; the URL signed is RELAY_PUBLIC_URL's
                        (else RELAY_API_URL's) followed by the path, as the api checks it
`;

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'start': {
      try {
        await runDevStack(process.env);
      } catch (err) {
        if (!(err instanceof StackAlreadyRunningError)) throw err;
        console.error(err.message);
        return 1;
      }
      return -1;
    }
    case 'api':
    case 'worker': {
      const env = loadConfig(process.env);
      const temporal = temporalConnectionSettings(process.env);
      if (command === 'api') {
        const api = await startApi(env, { temporal });
        api.app.log.info(`api listening on ${api.url}, ${describeTemporalConnection(temporal)}`);
        process.once('SIGTERM', () => void api.stop());
        process.once('SIGINT', () => void api.stop());
      } else {
        const running = await startWorker(env, { temporal, installRuntime: true });
        running.info(`worker polling task queue ${env.RELAY_TASK_QUEUE} on ${describeTemporalConnection(temporal)}`);
        process.once('SIGTERM', () => void running.stop());
        process.once('SIGINT', () => void running.stop());
        await running.done;
      }
      return -1;
    }
    case 'events': {
      if (sub !== 'list' && sub !== 'validate') break;
      // The same file npm start runs with when RELAY_CONFIG is unset.
      const path = rest[0] ?? loadConfig(process.env).RELAY_CONFIG ?? DEFAULT_RELAY_CONFIG;
      return sub === 'list'
        ? runEventsList(path, process.stdout)
        : runEventsValidate(path, process.stdout, process.stderr);
    }
    case 'sandbox': {
      if (sub === 'fault' || sub === 'faults' || (sub === 'cm360' && rest[0] === 'conversions')) {
        const env = loadConfig(process.env);
        const targets = sandboxTargets(env, readSandboxStackFile(stackDataDir(env, projectRoot)));
        if (sub === 'fault') return runSandboxFault(targets, rest, process.stdout, process.stderr);
        if (sub === 'faults') return runSandboxFaults(targets, process.stdout);
        const { values, positionals } = parseArgs({
          args: rest.slice(1),
          allowPositionals: true,
          options: { json: { type: 'boolean', default: false }, 'exactly-once': { type: 'boolean', default: false } },
        });
        if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'reset')) {
          console.error('usage: relay sandbox cm360 conversions [reset] [--json] [--exactly-once]');
          return 2;
        }
        return runCm360Conversions(
          targets,
          {
            reset: positionals[0] === 'reset',
            json: values.json ?? false,
            exactlyOnce: values['exactly-once'] ?? false,
          },
          process.stdout,
          process.stderr,
        );
      }
      if (sub === 'pendo') {
        const { startPendoEmulator } = loadPendoEmulator();
        const { DEMO_PENDO } = loadHubSpotEmulator();
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string' } } });
        const pendo = await startPendoEmulator({ port: Number(values.port ?? 8092), seedDemo: DEMO_PENDO });
        console.log(`Pendo sandbox emulator at ${pendo.baseUrl}`);
        process.once('SIGINT', () => void pendo.close());
        process.once('SIGTERM', () => void pendo.close());
        return -1;
      }
      if (sub === 'hubspot' || sub === 'google-ads') {
        const { values } = parseArgs({
          args: rest,
          options: { port: { type: 'string' }, 'control-port': { type: 'string' } },
        });
        const stops: (() => Promise<void>)[] = [];
        if (sub === 'hubspot') {
          const { startHubSpotEmulator } = loadHubSpotEmulator();
          const hubspot = await startHubSpotEmulator({ port: Number(values.port ?? 8090), seedDemo: true });
          console.log(`HubSpot sandbox emulator at ${hubspot.basePath}`);
          stops.push(() => hubspot.close());
        } else {
          const { startGoogleAdsEmulator } = loadGoogleAdsEmulator();
          const port = Number(values.port ?? 8091);
          const controlPort = Number(
            values['control-port'] ?? (port === 0 ? 0 : port + GOOGLE_ADS_CONTROL_PORT_OFFSET),
          );
          const googleAds = await startGoogleAdsEmulator({ port, controlPort });
          console.log(
            `Google Ads sandbox emulator (gRPC, plaintext) at ${googleAds.host}:${googleAds.port}, control API at ${googleAds.controlUrl}`,
          );
          stops.push(() => googleAds.close());
        }
        process.once('SIGINT', () => void Promise.all(stops.map((s) => s())));
        process.once('SIGTERM', () => void Promise.all(stops.map((s) => s())));
        return -1;
      }
      if (sub !== 'cm360') break;
      const { startCm360Emulator } = loadCm360Emulator();
      const { values } = parseArgs({
        args: rest,
        options: { port: { type: 'string', default: '8089' }, 'index-delay': { type: 'string', default: '0' } },
      });
      const emulator = await startCm360Emulator({
        port: Number(values.port),
        indexDelayMs: msToNumber(values['index-delay'] ?? '0'),
      });
      console.log(`CM360 sandbox emulator at ${emulator.apiRoot}`);
      process.once('SIGINT', () => void emulator.close());
      process.once('SIGTERM', () => void emulator.close());
      return -1;
    }
    case 'pendo': {
      const env = loadConfig(process.env);
      if (sub === 'schedule' && rest[0] === 'apply') return applySchedules(env, 'pendo');
      const api = apiTarget(env);
      try {
        if (sub === 'sync') {
          const { values } = parseArgs({ args: rest, options: { wait: { type: 'boolean', default: false } } });
          return await runPendoSync(api, { wait: values.wait ?? false }, process.stdout, process.stderr);
        }
        if (sub === 'status') {
          const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } } });
          return await runPendoStatus(api, { json: values.json ?? false }, process.stdout);
        }
        if (sub === 'preview') {
          const { values } = parseArgs({
            args: rest,
            options: {
              level: { type: 'string' },
              limit: { type: 'string' },
              json: { type: 'boolean', default: false },
            },
          });
          if (values.level !== undefined && values.level !== 'visitor' && values.level !== 'account') {
            console.error('--level is visitor or account');
            return 2;
          }
          const limit = values.limit === undefined ? undefined : Number(values.limit);
          if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
            console.error('--limit is a whole number from 1 to 100');
            return 2;
          }
          return await runPendoPreview(api, { level: values.level, limit, json: values.json ?? false }, process.stdout);
        }
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err;
        console.error(err.message);
        return 1;
      }
      break;
    }
    case 'calls': {
      const env = loadConfig(process.env);
      if (sub === 'schedule' && rest[0] === 'apply') return applySchedules(env, 'calls');
      const api = apiTarget(env);
      try {
        if (sub === 'import') {
          const { values, positionals } = parseArgs({
            args: rest,
            allowPositionals: true,
            options: { wait: { type: 'boolean', default: false } },
          });
          if (positionals.length !== 1) {
            console.error('usage: relay calls import FILE.csv [--wait]');
            return 2;
          }
          return await runCallsImport(
            api,
            { file: positionals[0] as string, wait: values.wait ?? false },
            process.stdout,
            process.stderr,
          );
        }
        if (sub === 'report') {
          const { values, positionals } = parseArgs({
            args: rest,
            allowPositionals: true,
            options: { failed: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
          });
          if (positionals.length !== 1) {
            console.error('usage: relay calls report ID [--failed] [--json]');
            return 2;
          }
          return await runCallsReport(
            api,
            { importId: positionals[0] as string, failed: values.failed ?? false, json: values.json ?? false },
            process.stdout,
            process.stderr,
          );
        }
        if (sub === 'pull') {
          const { values } = parseArgs({
            args: rest,
            options: { wait: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
          });
          return await runCallsPull(
            api,
            { wait: values.wait ?? false, json: values.json ?? false },
            process.stdout,
            process.stderr,
          );
        }
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err;
        console.error(err.message);
        return 1;
      }
      break;
    }
    case 'hubspot': {
      const env = loadConfig(process.env);
      if (!env.HUBSPOT_CLIENT_SECRET) {
        console.error(`HUBSPOT_CLIENT_SECRET is not set: signing with npm start's dev secret`);
      }
      const target: HubSpotTarget = {
        apiUrl: apiTarget(env).url,
        ...(env.RELAY_PUBLIC_URL ? { publicUrl: env.RELAY_PUBLIC_URL } : {}),
        secret: env.HUBSPOT_CLIENT_SECRET ?? DEV_HUBSPOT_SECRET,
      };
      if (sub === 'sign') {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            path: { type: 'string', default: LIFECYCLE_PATH },
            method: { type: 'string', default: 'POST' },
            timestamp: { type: 'string' },
          },
        });
        const body = positionals[0] === undefined ? '' : readBody(positionals[0]);
        const timestamp = values.timestamp === undefined ? undefined : Number(values.timestamp);
        if (timestamp !== undefined && !Number.isInteger(timestamp)) {
          console.error('--timestamp is epoch milliseconds');
          return 2;
        }
        return runHubSpotSign(
          target,
          { path: values.path ?? LIFECYCLE_PATH, method: values.method, body, timestamp },
          process.stdout,
          process.stderr,
        );
      }
      if (sub === 'send' && rest[0] === 'lifecycle') {
        const { values } = parseArgs({
          args: rest.slice(1),
          options: {
            contact: { type: 'string' },
            stage: { type: 'string' },
            portal: { type: 'string', default: '62515' },
            'occurred-at': { type: 'string' },
          },
        });
        if (!values.contact || !/^\d+$/.test(values.contact) || !values.stage) {
          console.error(
            'usage: relay hubspot send lifecycle --contact ID --stage STAGE [--portal ID] [--occurred-at TIME]',
          );
          return 2;
        }
        const at = values['occurred-at'];
        const occurredAt = at === undefined ? undefined : /^\d+$/.test(at) ? Number(at) : Date.parse(at);
        if (occurredAt !== undefined && !Number.isFinite(occurredAt)) {
          console.error('--occurred-at is an ISO time or epoch milliseconds');
          return 2;
        }
        const body = JSON.stringify(
          lifecycleEvent({
            contactId: values.contact,
            stage: values.stage,
            portalId: values.portal ?? '62515',
            occurredAt,
          }),
        );
        return runHubSpotSend(target, { path: LIFECYCLE_PATH, body }, process.stdout, process.stderr);
      }
      if (sub === 'send' && rest[0] === 'form' && rest[1]) {
        return runHubSpotSend(target, { path: FORMS_PATH, body: readBody(rest[1]) }, process.stdout, process.stderr);
      }
      break;
    }
    case 'demo': {
      const { values } = parseArgs({
        args: [sub, ...rest].filter((a): a is string => a !== undefined),
        options: {
          'no-wait': { type: 'boolean', default: false },
          timeout: { type: 'string', default: '3m' },
          json: { type: 'boolean', default: false },
        },
      });
      const timeoutMs = durationOption('--timeout', values.timeout ?? '3m', '3m or 90s');
      if (timeoutMs === undefined) return 2;
      const env = loadConfig(process.env);
      const stack = demoStack(env);
      if (typeof stack === 'string') {
        console.error(stack);
        return 1;
      }
      try {
        return await runDemo(
          stack,
          { wait: !(values['no-wait'] ?? false), timeoutMs, json: values.json ?? false },
          process.stdout,
          process.stderr,
        );
      } catch (err) {
        // The api or an emulator answered something else than the demo needs: say what, exit 1.
        if (!(err instanceof ApiCallError || err instanceof ControlError)) throw err;
        console.error(err.message);
        return 1;
      }
    }
    case 'stats': {
      const { values } = parseArgs({
        args: [sub, ...rest].filter((a): a is string => a !== undefined),
        options: { since: { type: 'string', default: '24h' }, json: { type: 'boolean', default: false } },
      });
      const sinceMs = durationOption('--since', values.since ?? '24h', '24h or 7d');
      if (sinceMs === undefined) return 2;
      return runStats(loadConfig(process.env), {
        sinceMs,
        sinceLabel: values.since ?? '24h',
        json: values.json ?? false,
      });
    }
    case 'identifiers': {
      if (sub !== 'hash') break;
      const env = loadConfig(process.env);
      const { errors } = await runIdentifiersHash(process.stdin, process.stdout, {
        defaultRegion: env.RELAY_DEFAULT_PHONE_REGION,
      });
      return errors > 0 ? 1 : 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
  }
  console.error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

/** A duration option (`90s`, `3m`, `24h`) in ms, or undefined after saying what is wrong. */
function durationOption(name: string, value: string, example: string): number | undefined {
  try {
    return msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    console.error(`${name} is a duration, e.g. ${example}`);
    return undefined;
  }
}

function apiTarget(env: Env): ApiTarget {
  return {
    url: env.RELAY_API_URL ?? `http://${env.RELAY_HTTP_HOST}:${env.RELAY_HTTP_PORT}`,
    apiKey: env.RELAY_API_KEY ?? DEV_API_KEY,
  };
}

async function runStats(env: Env, opts: { sinceMs: number; sinceLabel: string; json: boolean }): Promise<number> {
  const temporal = temporalConnectionSettings(process.env);
  const connection = await Connection.connect(temporal.clientOptions);
  try {
    // Visibility only: no payload is read, so no codec is needed.
    const client = new Client({ connection, namespace: temporal.namespace });
    const stats = await collectStats(client, Date.now() - opts.sinceMs);
    process.stdout.write(opts.json ? `${JSON.stringify(stats, null, 2)}\n` : statsTable(stats, opts.sinceLabel));
    return 0;
  } finally {
    await connection.close();
  }
}

async function applySchedules(env: Env, which: 'pendo' | 'calls'): Promise<number> {
  const file = env.RELAY_CONFIG ? loadRelayConfigFile(env.RELAY_CONFIG) : undefined;
  const temporal = temporalConnectionSettings(process.env);
  const connection = await Connection.connect(temporal.clientOptions);
  try {
    // The schedule's arguments hold no personal data; they are encrypted like every payload when the key is set.
    const keys = payloadKeys(env);
    const dataConverter = keys.current ? relayDataConverter(payloadCodec(keys.current, keys.previous)) : undefined;
    const client = new Client({
      connection,
      namespace: temporal.namespace,
      ...(dataConverter ? { dataConverter } : {}),
    });
    if (which === 'pendo') {
      const outcome = await applyPendoSchedule(client, { taskQueue: env.RELAY_TASK_QUEUE, config: file?.pendo });
      console.log(`schedule ${PENDO_SCHEDULE_ID}: ${outcome}`);
    } else {
      const outcome = await applyCallsSchedule(client, { taskQueue: env.RELAY_TASK_QUEUE, config: file?.calls });
      console.log(`schedule ${CALLS_SCHEDULE_ID}: ${outcome}`);
    }
    return 0;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 1;
  },
);
