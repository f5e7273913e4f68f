// The Temporal connection settings from an environment map (and a temporal.toml): the defaults, what turns TLS
// on, where the API key goes, and that every bad setting is named — never echoed. Certificates made with
// openssl, and real connections, are in test/e2e/temporal-tls.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inspect } from 'node:util';
import {
  describeTemporalConnection,
  temporalConnectionSettings,
  type TemporalConnectionSettings,
} from '../../src/temporal/connection';

const API_KEY = 'tmprl-api-key-0123456789abcdef-DO-NOT-LOG';
const dir = mkdtempSync(join(tmpdir(), 'relay-temporal-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every way the settings could reach a log. */
const shown = (s: TemporalConnectionSettings) =>
  [
    describeTemporalConnection(s),
    JSON.stringify(s),
    inspect(s, { depth: 10 }),
    String(inspect(s.clientOptions, { depth: 10 })),
    String(inspect(s.workerOptions, { depth: 10 })),
    JSON.stringify(s.clientOptions),
    JSON.stringify(s.workerOptions),
  ].join('\n');

/** Asserts `fn` throws an Error whose message matches and holds none of the secrets. */
function throwsNamed(fn: () => unknown, pattern: RegExp, secrets: string[] = []) {
  assert.throws(fn, (err: Error) => {
    assert.match(err.message, pattern);
    for (const secret of secrets) assert.ok(!err.message.includes(secret), 'the message holds no secret');
    return true;
  });
}

function writeToml(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('temporalConnectionSettings: defaults and plain settings', () => {
  test('nothing set: 127.0.0.1:7233, namespace default, no TLS', () => {
    const s = temporalConnectionSettings({});
    assert.equal(s.address, '127.0.0.1:7233');
    assert.equal(s.namespace, 'default');
    assert.equal(s.tls, false);
    assert.equal(s.serverCA, false);
    assert.equal(s.mtls, false);
    assert.equal(s.apiKey, false);
    assert.equal(s.serverName, undefined);
    assert.deepEqual(s.grpcMetadata, []);
    assert.equal(s.profile, undefined);
    assert.equal(s.configFile, undefined);
    assert.deepEqual(s.clientOptions, { address: '127.0.0.1:7233', tls: false });
    assert.deepEqual(s.workerOptions, { address: '127.0.0.1:7233', tls: false });
    assert.notEqual(s.clientOptions, s.workerOptions, 'each connection gets an object of its own');
    assert.equal(describeTemporalConnection(s), 'temporal 127.0.0.1:7233 namespace default (no TLS)');
  });

  test('blank values, as in a copied .env.example, count as unset', () => {
    const s = temporalConnectionSettings({
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: ' ',
      TEMPORAL_API_KEY: '',
      TEMPORAL_TLS: '',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
      TEMPORAL_TLS_SERVER_NAME: '',
      TEMPORAL_CONFIG_FILE: '',
      TEMPORAL_PROFILE: '',
    });
    assert.equal(describeTemporalConnection(s), 'temporal 127.0.0.1:7233 namespace default (no TLS)');
    assert.deepEqual(s.clientOptions, { address: '127.0.0.1:7233', tls: false });
  });

  test('the address and namespace; the port defaults to 7233', () => {
    const s = temporalConnectionSettings({ TEMPORAL_ADDRESS: 'temporal.internal', TEMPORAL_NAMESPACE: 'relay' });
    assert.equal(s.address, 'temporal.internal:7233');
    assert.equal(s.namespace, 'relay');
    assert.equal(s.clientOptions.address, 'temporal.internal:7233');
    assert.equal(temporalConnectionSettings({ TEMPORAL_ADDRESS: '[::1]:7300' }).address, '[::1]:7300');
  });

  test('a malformed address is named', () => {
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_ADDRESS: 'https://temporal:7233' }), /^TEMPORAL_ADDRESS /);
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_ADDRESS: 'temporal:http' }), /^TEMPORAL_ADDRESS /);
  });
});

describe('temporalConnectionSettings: TLS and the API key', () => {
  test('an API key turns TLS on and goes into both options, never into what is shown', () => {
    const s = temporalConnectionSettings({
      TEMPORAL_ADDRESS: 'relay.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'relay.a1b2c',
      TEMPORAL_API_KEY: API_KEY,
    });
    assert.equal(s.tls, true);
    assert.equal(s.apiKey, true);
    assert.equal(s.clientOptions.apiKey, API_KEY);
    assert.equal(s.workerOptions.apiKey, API_KEY);
    assert.equal(s.clientOptions.tls, true);
    assert.equal(s.workerOptions.tls, true);
    assert.equal(
      describeTemporalConnection(s),
      'temporal relay.a1b2c.tmprl.cloud:7233 namespace relay.a1b2c (TLS, API key)',
    );
    assert.ok(!shown(s).includes(API_KEY), 'no log line, JSON or inspect output holds the key');
  });

  test('TEMPORAL_TLS=false keeps TLS off even with an API key, explicitly in the options', () => {
    const s = temporalConnectionSettings({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    assert.equal(s.tls, false);
    // false, not absent: Connection.connect would otherwise turn TLS on for the key by itself.
    assert.equal(s.clientOptions.tls, false);
    assert.equal(s.workerOptions.tls, false);
    assert.equal(s.clientOptions.apiKey, API_KEY);
    assert.equal(describeTemporalConnection(s), 'temporal 127.0.0.1:7233 namespace default (no TLS, API key)');
  });

  test('TEMPORAL_TLS=true alone: TLS with the system roots', () => {
    for (const value of ['true', '1', 'TRUE', 'True']) {
      const s = temporalConnectionSettings({ TEMPORAL_TLS: value });
      assert.equal(s.tls, true, value);
      assert.equal(s.serverCA, false);
      assert.deepEqual(s.clientOptions.tls, {});
      assert.deepEqual(s.workerOptions.tls, {});
    }
    assert.equal(temporalConnectionSettings({ TEMPORAL_TLS: '0' }).tls, false);
  });

  test('TEMPORAL_TLS_SERVER_NAME is passed as the server name override', () => {
    const s = temporalConnectionSettings({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    assert.equal(s.serverName, 'temporal.internal');
    assert.deepEqual(s.clientOptions.tls, { serverNameOverride: 'temporal.internal' });
    assert.match(describeTemporalConnection(s), /\(TLS, server name temporal\.internal\)$/);
  });

  test('a TEMPORAL_TLS that is not a boolean is named (envconfig would read "yes" as false)', () => {
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_TLS: 'yes' }), /^TEMPORAL_TLS must be true or false/);
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_TLS: 'on', TEMPORAL_API_KEY: API_KEY }), /^TEMPORAL_TLS /, [
      API_KEY,
    ]);
  });

  test('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is refused (the TypeScript SDK cannot do it)', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }),
      /^TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported/,
    );
    assert.equal(temporalConnectionSettings({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }).tls, false);
  });
});

describe('temporalConnectionSettings: certificate and key settings', () => {
  const missing = join(dir, 'no-such-dir', 'client.pem');

  test('a missing client certificate file names its variable and the path, not the key', () => {
    throwsNamed(
      () =>
        temporalConnectionSettings({
          TEMPORAL_API_KEY: API_KEY,
          TEMPORAL_TLS_CLIENT_CERT_PATH: missing,
          TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
        }),
      new RegExp(
        `^TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(ENOENT\\)$`,
      ),
      [API_KEY],
    );
  });

  test('a missing server CA file names its variable', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }),
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .* \(ENOENT\)$/,
    );
  });

  test('a certificate without its key (or a key without its certificate) is named', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing }),
      /^TEMPORAL_TLS_CLIENT_CERT_PATH is set but not TEMPORAL_TLS_CLIENT_KEY_PATH\/_DATA .*mTLS needs both$/,
    );
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_CLIENT_KEY_DATA: 'secret-key-material' }),
      /^TEMPORAL_TLS_CLIENT_KEY_DATA is set but not TEMPORAL_TLS_CLIENT_CERT_PATH\/_DATA/,
      ['secret-key-material'],
    );
  });

  test('a file and its contents at once are named', () => {
    throwsNamed(
      () =>
        temporalConnectionSettings({
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing,
          TEMPORAL_TLS_SERVER_CA_CERT_DATA: '-----BEGIN CERTIFICATE-----',
        }),
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_CA_CERT_DATA are both set/,
    );
  });

  test('contents that are not a PEM certificate are named, not echoed', () => {
    const junk = 'MIIB-not-really-a-certificate-3f9a';
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: junk }),
      /^TEMPORAL_TLS_SERVER_CA_CERT_DATA is not a PEM certificate$/,
      [junk],
    );
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_TLS_CLIENT_CERT_DATA: junk, TEMPORAL_TLS_CLIENT_KEY_DATA: junk }),
      /^TEMPORAL_TLS_CLIENT_CERT_DATA is not a PEM certificate$/,
      [junk],
    );
  });

  test('TLS explicitly off reads no certificate file (as envconfig)', () => {
    const s = temporalConnectionSettings({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing });
    assert.equal(s.tls, false);
    assert.equal(s.serverCA, false);
  });
});

describe('temporalConnectionSettings: gRPC headers', () => {
  test('TEMPORAL_GRPC_META_* become headers; only their names are shown', () => {
    const s = temporalConnectionSettings({ TEMPORAL_GRPC_META_X_TENANT: 'acme-secret-tenant' });
    assert.deepEqual(s.clientOptions.metadata, { 'x-tenant': 'acme-secret-tenant' });
    assert.deepEqual(s.workerOptions.metadata, { 'x-tenant': 'acme-secret-tenant' });
    assert.notEqual(s.clientOptions.metadata, s.workerOptions.metadata);
    assert.deepEqual(s.grpcMetadata, ['x-tenant']);
    assert.equal(
      describeTemporalConnection(s),
      'temporal 127.0.0.1:7233 namespace default (no TLS, gRPC headers x-tenant)',
    );
    assert.ok(!shown(s).includes('acme-secret-tenant'));
  });

  test('an API key and an authorization header at once are refused', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_GRPC_META_AUTHORIZATION: 'Bearer x' }),
      /^TEMPORAL_API_KEY and an authorization gRPC header/,
      [API_KEY],
    );
  });
});

describe('temporalConnectionSettings: temporal.toml profiles', () => {
  const file = writeToml('temporal.toml', [
    '[profile.default]',
    'address = "temporal.internal:7233"',
    'namespace = "relay"',
    '',
    '[profile.cloud]',
    'address = "relay.a1b2c.tmprl.cloud:7233"',
    'namespace = "relay.a1b2c"',
    `api_key = "${API_KEY}"`,
    '[profile.cloud.grpc_meta]',
    'x-tenant = "acme"',
  ]);

  test('TEMPORAL_CONFIG_FILE: its default profile, the environment over it', () => {
    const s = temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: file });
    assert.equal(s.address, 'temporal.internal:7233');
    assert.equal(s.namespace, 'relay');
    assert.equal(s.tls, false);
    assert.equal(s.profile, 'default');
    assert.equal(s.configFile, file);
    assert.equal(
      describeTemporalConnection(s),
      `temporal temporal.internal:7233 namespace relay (no TLS; profile default of ${file})`,
    );
    const over = temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_NAMESPACE: 'relay-staging' });
    assert.equal(over.namespace, 'relay-staging');
    assert.equal(over.address, 'temporal.internal:7233');
  });

  test('TEMPORAL_PROFILE picks a profile; its API key turns TLS on', () => {
    const s = temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(s.address, 'relay.a1b2c.tmprl.cloud:7233');
    assert.equal(s.tls, true);
    assert.equal(s.clientOptions.apiKey, API_KEY);
    assert.deepEqual(s.workerOptions.metadata, { 'x-tenant': 'acme' });
    assert.ok(!shown(s).includes(API_KEY));
    const plain = temporalConnectionSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_TLS: 'false',
    });
    assert.equal(plain.tls, false);
  });

  test('an unknown TEMPORAL_PROFILE is named with the profiles there are', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' }),
      /^TEMPORAL_PROFILE: .* has no profile "prod" \(it has: default, cloud\)$/,
      [API_KEY],
    );
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_PROFILE: 'prod' }), /^TEMPORAL_PROFILE /);
  });

  test('a TEMPORAL_CONFIG_FILE that cannot be read is named', () => {
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml') }),
      /^TEMPORAL_CONFIG_FILE: cannot read .*absent\.toml \(ENOENT\)$/,
    );
  });

  test('a TOML error names the file and line, not the line’s text (it may hold the key)', () => {
    const bad = writeToml('bad.toml', ['[profile.default]', `api_key = "${API_KEY}`]);
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: bad }),
      /^.*bad\.toml: Invalid TOML document: .* \(line 2, column \d+\)$/,
      [API_KEY],
    );
  });

  test('an unknown key of the file is named (strict: a typo is not ignored)', () => {
    const typo = writeToml('typo.toml', ['[profile.default]', 'adress = "temporal.internal:7233"']);
    throwsNamed(() => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: typo }), /typo\.toml: .*unrecognized.*adress/);
  });

  test('a file of the profile and contents from the environment for one item are named', () => {
    const ca = writeToml('ca.toml', ['[profile.default.tls]', `server_ca_cert_path = "${join(dir, 'ca.pem')}"`]);
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: ca, TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'pem' }),
      /^TEMPORAL_TLS_SERVER_CA_CERT_DATA and tls\.server_ca_cert_path of profile "default" in .*ca\.toml are both set/,
    );
  });

  test('a certificate path of the file that cannot be read names the file key and profile', () => {
    const certs = writeToml('certs.toml', [
      '[profile.default.tls]',
      `client_cert_path = "${join(dir, 'absent-client.pem')}"`,
      `client_key_path = "${join(dir, 'absent-client.key')}"`,
    ]);
    throwsNamed(
      () => temporalConnectionSettings({ TEMPORAL_CONFIG_FILE: certs }),
      /^tls\.client_cert_path of profile "default" in .*certs\.toml: cannot read .*absent-client\.pem \(ENOENT\)$/,
    );
  });

  test(
    'the default file: $XDG_CONFIG_HOME/temporalio/temporal.toml, absent is fine',
    { skip: process.platform !== 'linux' && 'the default location differs on this platform' },
    () => {
      const config = join(dir, 'xdg');
      mkdirSync(join(config, 'temporalio'), { recursive: true });
      writeFileSync(join(config, 'temporalio', 'temporal.toml'), '[profile.default]\nnamespace = "from-xdg"\n');
      assert.equal(temporalConnectionSettings({ XDG_CONFIG_HOME: config }).namespace, 'from-xdg');
      const none = temporalConnectionSettings({ HOME: join(dir, 'empty-home') });
      assert.equal(none.configFile, undefined);
      assert.equal(none.namespace, 'default');
    },
  );
});
