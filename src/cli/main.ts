// `relay <command>`: the command-line composition root. It alone hands process.env to loadConfig.
import { parseArgs } from 'node:util';
import { msToNumber } from '@temporalio/common/lib/time';
import { ConfigError, loadConfig } from '../config/env';
import { startCm360Emulator } from '../sandbox/cm360';
import { startGoogleAdsEmulator } from '../sandbox/google-ads';
import { startHubSpotEmulator } from '../sandbox/hubspot';
import { startApi, startWorker } from '../workers/composition';
import { runDevStack } from '../workers/dev-stack';
import { runEventsList, runEventsValidate } from './events';
import { runIdentifiersHash } from './identifiers-hash';

const USAGE = `usage: relay <command>

  start                 the whole local stack (Temporal dev server + Web UI, worker, api, sandboxes)
  api                   the HTTP api only (production: Temporal elsewhere)
  worker                the Temporal worker only
  sandbox cm360 [--port N] [--index-delay 90m]
                        the CM360 batchupdate emulator
  sandbox hubspot [--port N]
                        the HubSpot CRM emulator, with demo contacts and deals
  sandbox google-ads [--port N]
                        the Google Ads gRPC emulator (ConversionUploadService, ConversionAdjustmentUploadService)
  events list [file]    the conversion event definitions (default: RELAY_CONFIG) and their status
  events validate [file]
                        every problem of a definitions file; exit 1 on errors
  identifiers hash      JSON lines of plaintext user data on stdin → CM360 userIdentifiers on stdout
`;

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'start': {
      await runDevStack(process.env);
      return -1;
    }
    case 'api':
    case 'worker': {
      const env = loadConfig(process.env);
      if (command === 'api') {
        const api = await startApi(env);
        console.log(`api listening on ${api.url}`);
        process.once('SIGTERM', () => void api.stop());
        process.once('SIGINT', () => void api.stop());
      } else {
        const running = await startWorker(env);
        console.log(`worker polling task queue ${env.RELAY_TASK_QUEUE} on ${env.TEMPORAL_ADDRESS}`);
        process.once('SIGTERM', () => void running.stop());
        process.once('SIGINT', () => void running.stop());
        await running.done;
      }
      return -1;
    }
    case 'events': {
      if (sub !== 'list' && sub !== 'validate') break;
      const path = rest[0] ?? loadConfig(process.env).RELAY_CONFIG;
      if (!path) {
        console.error('name a definitions file, or set RELAY_CONFIG');
        return 2;
      }
      return sub === 'list'
        ? runEventsList(path, process.stdout)
        : runEventsValidate(path, process.stdout, process.stderr);
    }
    case 'sandbox': {
      if (sub === 'hubspot' || sub === 'google-ads') {
        const { values } = parseArgs({ args: rest, options: { port: { type: 'string' } } });
        const stops: (() => Promise<void>)[] = [];
        if (sub === 'hubspot') {
          const hubspot = await startHubSpotEmulator({ port: Number(values.port ?? 8090), seedDemo: true });
          console.log(`HubSpot sandbox emulator at ${hubspot.basePath}`);
          stops.push(() => hubspot.close());
        } else {
          const googleAds = await startGoogleAdsEmulator({ port: Number(values.port ?? 8091) });
          console.log(`Google Ads sandbox emulator (gRPC, plaintext) at ${googleAds.host}:${googleAds.port}`);
          stops.push(() => googleAds.close());
        }
        process.once('SIGINT', () => void Promise.all(stops.map((s) => s())));
        process.once('SIGTERM', () => void Promise.all(stops.map((s) => s())));
        return -1;
      }
      if (sub !== 'cm360') break;
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

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 1;
  },
);
