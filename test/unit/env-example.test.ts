// The configuration's three descriptions agree with the code: .env.example names exactly the variables the relay
// reads, each with its default (so a copied file changes nothing, under npm start or docker compose), and README.md
// mentions every variable of src/config/env.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../src/config/env';
import { describeTemporalConnection, temporalConnectionSettings } from '../../src/temporal/connection';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Read by src/temporal/connection.ts through @temporalio/envconfig, not by src/config/env.ts. */
const TEMPORAL_ENVCONFIG = new Set([
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
]);

interface Entry {
  key: string;
  value: string;
  /** `# KEY=value`: shown, deliberately left unset. */
  commented: boolean;
  line: number;
}

/** `KEY=value` lines, and `# KEY=value` ones (a variable shown but left unset); other comments are prose. */
function parseEnvExample(text: string): Entry[] {
  return text.split('\n').flatMap((raw, i): Entry[] => {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw);
    return m ? [{ key: m[2]!, value: m[3]!, commented: m[1] !== undefined, line: i + 1 }] : [];
  });
}

const entries = parseEnvExample(read('.env.example'));
const active = entries.filter((e) => !e.commented);
const envKeys = Object.keys(envSchema.shape);
const defaults = loadConfig({}) as Record<string, unknown>;
const at = (e: Entry) => `.env.example:${e.line} ${e.key}`;

describe('.env.example', () => {
  test('names every variable of src/config/env.ts, once, and nothing the relay does not read', () => {
    const keys = entries.map((e) => e.key);
    assert.deepEqual(
      keys.filter((k, i) => keys.indexOf(k) !== i),
      [],
      'a variable listed twice',
    );
    assert.deepEqual(
      envKeys.filter((k) => !keys.includes(k)),
      [],
      'variables of src/config/env.ts missing from .env.example',
    );
    assert.deepEqual(
      keys.filter((k) => !envKeys.includes(k) && !TEMPORAL_ENVCONFIG.has(k)),
      [],
      'variables in .env.example that the relay does not read',
    );
  });

  test('every value parses, and is the default: an empty value is unset, a copied file changes nothing', () => {
    for (const e of entries.filter((x) => envKeys.includes(x.key))) {
      let parsed: Record<string, unknown>;
      try {
        parsed = loadConfig({ [e.key]: e.value });
      } catch (err) {
        assert.fail(`${at(e)}: ${(err as Error).message}`);
      }
      // A shown-but-unset variable (`# KEY=value`) is an example of what to set, not the default.
      if (!e.commented) assert.deepEqual(parsed[e.key], defaults[e.key], `${at(e)} is not src/config/env.ts's default`);
    }
    // The file as a whole is a valid environment.
    assert.doesNotThrow(() => loadConfig(Object.fromEntries(active.map((e) => [e.key, e.value]))));
  });

  test("Temporal's envconfig variables are left blank, and blank counts as unset", () => {
    const temporal = active.filter((e) => TEMPORAL_ENVCONFIG.has(e.key));
    assert.deepEqual(
      temporal.filter((e) => e.value.trim() !== '').map(at),
      [],
      'a deployment-specific Temporal value in .env.example',
    );
    const vars = Object.fromEntries(active.filter((e) => e.key.startsWith('TEMPORAL_')).map((e) => [e.key, e.value]));
    assert.equal(
      describeTemporalConnection(temporalConnectionSettings(vars)),
      describeTemporalConnection(temporalConnectionSettings({})),
    );
  });

  test("agrees with docker-compose.yml: a value .env.example sets is the compose file's own default", () => {
    // Compose reads .env for `${NAME:-default}`: a value set there replaces the compose default. A
    // `RELAY_SERVE_CODEC=false` in .env.example turned the stack's codec (default true) off once copied.
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    const composeDefaults = new Map<string, string>();
    for (const service of Object.values(compose.services)) {
      for (const value of Object.values(service.environment ?? {})) {
        for (const m of String(value).matchAll(/\$\{([A-Z0-9_]+):-([^}]*)\}/g)) composeDefaults.set(m[1]!, m[2]!);
      }
    }
    assert.ok(composeDefaults.has('RELAY_SERVE_CODEC'), 'the compose file still defaults RELAY_SERVE_CODEC');
    const disagree = active
      .filter((e) => e.value !== '' && composeDefaults.has(e.key) && composeDefaults.get(e.key) !== e.value)
      .map((e) => `${at(e)}=${e.value}, compose default ${composeDefaults.get(e.key)}`);
    assert.deepEqual(disagree, []);
    // What compose defaults to true is not set in .env.example at all (a blank value would be read as false).
    const codec = entries.find((e) => e.key === 'RELAY_SERVE_CODEC');
    assert.ok(codec?.commented, 'RELAY_SERVE_CODEC is shown but left unset');
  });
});

describe('README.md', () => {
  test('mentions every variable of src/config/env.ts by its full name', () => {
    const readme = read('README.md');
    assert.deepEqual(
      envKeys.filter((k) => !new RegExp(`\\b${k}\\b`).test(readme)),
      [],
      'variables of src/config/env.ts that README.md never names',
    );
  });
});
