// The relay's Temporal connection over TLS, mTLS and plaintext, for real: the CLI dev server has no TLS of its
// own, so a TLS-terminating TCP proxy (node:tls) sits in front of its plain gRPC port — gRPC over h2 passes
// through untouched. A throwaway CA, a server certificate for localhost/127.0.0.1 and client certificates are
// made with the openssl CLI at test time. Both connection kinds are driven from the settings: the api's Client
// over Connection.connect(settings.clientOptions), the worker's NativeConnection.connect(settings.workerOptions).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once, EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import {
  describeTemporalConnection,
  temporalConnectionSettings,
  type TemporalConnectionSettings,
} from '../../src/temporal/connection';
import { createDevServerEnv } from '../helpers/temporal';

/** How long a connection that must fail may try: the bound of every negative case. */
const FAILING_CONNECT_TIMEOUT = '2s';
const TEST_TIMEOUT = { timeout: 60_000 };

let dir: string;
let devServer: TestWorkflowEnvironment;
let upstream: { host: string; port: number };
const proxies: TlsProxy[] = [];
const pem = (name: string) => join(dir, name);

// ---- certificates ------------------------------------------------------------------------------------------

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `the openssl CLI could not be run (${r.error.message}): these tests make their certificates with it; ` +
        'install openssl (e.g. apt-get install openssl) and run them again',
    );
  }
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCertificates(): void {
  writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const ca = (name: string) =>
    openssl([
      'req',
      '-x509',
      '-config',
      'openssl.cnf',
      '-extensions',
      'ca_ext',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
  const leaf = (name: string, caName: string, ext: 'server_ext' | 'client_ext', serial: number) => {
    openssl(['req', '-new', '-config', 'openssl.cnf', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.pem`,
      '-CAkey',
      `${caName}.key`,
      '-set_serial',
      String(serial),
      '-days',
      '2',
      '-extfile',
      'openssl.cnf',
      '-extensions',
      ext,
      '-subj',
      `/CN=${name}`,
      '-out',
      `${name}.pem`,
    ]);
  };
  ca('relay-test-ca');
  ca('rogue-ca');
  leaf('server', 'relay-test-ca', 'server_ext', 2);
  leaf('client', 'relay-test-ca', 'client_ext', 3);
  leaf('rogue-client', 'rogue-ca', 'client_ext', 4);
}

// ---- the TLS-terminating proxy -----------------------------------------------------------------------------

interface TlsProxy {
  port: number;
  /** CN of each client that completed the handshake ('' without a client certificate). */
  peers: string[];
  /** Every refused handshake, in order; 'tlsClientError' is emitted on `events` for each. */
  refusals: Error[];
  events: EventEmitter;
  close(): Promise<void>;
}

/** Resolves with the first refusal from `since` on with this error code (one already seen, or the next). */
function refusal(proxy: TlsProxy, since: number, code: string): Promise<Error> {
  return new Promise((resolve) => {
    const check = () => {
      const hit = proxy.refusals.slice(since).find((e) => (e as NodeJS.ErrnoException).code === code);
      if (!hit) return;
      proxy.events.off('tlsClientError', check);
      resolve(hit);
    };
    proxy.events.on('tlsClientError', check);
    check();
  });
}

async function startTlsProxy(options: TlsOptions): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const events = new EventEmitter();
  const peers: string[] = [];
  const refusals: Error[] = [];
  const server = createTlsServer({ ...options, ALPNProtocols: ['h2'] }, (socket: TLSSocket) => {
    const cn = socket.getPeerCertificate().subject?.CN;
    peers.push(typeof cn === 'string' ? cn : '');
    const backend = netConnect(upstream.port, upstream.host);
    track(backend);
    const end = () => {
      socket.destroy();
      backend.destroy();
    };
    socket.on('error', end).on('close', end);
    backend.on('error', end).on('close', end);
    socket.pipe(backend).pipe(socket);
  });
  server.on('connection', track);
  server.on('tlsClientError', (err) => {
    refusals.push(err);
    events.emit('tlsClientError', err);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const proxy: TlsProxy = {
    port: address.port,
    peers,
    refusals,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  proxies.push(proxy);
  return proxy;
}

// ---- connecting --------------------------------------------------------------------------------------------

/** The api's way: a Client over Connection.connect; proves it with getSystemInfo and the namespace. */
async function clientWorks(s: TemporalConnectionSettings): Promise<void> {
  const connection = await Connection.connect(s.clientOptions);
  try {
    const client = new Client({ connection, namespace: s.namespace });
    const info = await client.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the server answered getSystemInfo');
    const ns = await client.workflowService.describeNamespace({ namespace: s.namespace });
    assert.equal(ns.namespaceInfo?.name, s.namespace);
  } finally {
    await connection.close();
  }
}

/** The worker's way: a NativeConnection. */
async function workerConnectionWorks(s: TemporalConnectionSettings): Promise<void> {
  const connection = await NativeConnection.connect(s.workerOptions);
  try {
    const info = await connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the server answered the worker connection');
  } finally {
    await connection.close();
  }
}

/** A Client connection that must fail, bounded by a short connect timeout. */
async function clientFails(s: TemporalConnectionSettings): Promise<void> {
  const started = Date.now();
  await assert.rejects(async () => {
    const connection = await Connection.connect({ ...s.clientOptions, connectTimeout: FAILING_CONNECT_TIMEOUT });
    await connection.close();
  });
  assert.ok(Date.now() - started < 20_000, 'the failure came within the bound');
}

before(async () => {
  const version = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(
      'the openssl CLI is required by test/e2e/temporal-tls.test.ts (it makes the throwaway CA and ' +
        `certificates): \`openssl version\` failed (${version.error?.message ?? version.stderr})`,
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'relay-temporal-tls-'));
  makeCertificates();
  devServer = await createDevServerEnv();
  const [host, port] = devServer.address.split(':');
  upstream = { host: host === 'localhost' ? '127.0.0.1' : (host ?? '127.0.0.1'), port: Number(port) };
});

after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await devServer?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const namespace = () => devServer.namespace ?? 'default';

describe('plaintext (no TLS variables)', () => {
  test('the defaults connect straight to the dev server', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings({ TEMPORAL_ADDRESS: devServer.address, TEMPORAL_NAMESPACE: namespace() });
    assert.equal(s.tls, false);
    assert.equal(s.clientOptions.tls, false);
    await clientWorks(s);
    await workerConnectionWorks(s);
  });
});

describe('TLS: the server CA given by the variables', () => {
  let proxy: TlsProxy;
  before(async () => {
    proxy = await startTlsProxy({ key: readFileSync(pem('server.key')), cert: readFileSync(pem('server.pem')) });
  });

  test(
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH: the Client and the worker connection both connect',
    TEST_TIMEOUT,
    async () => {
      const before = proxy.peers.length;
      const s = temporalConnectionSettings({
        TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
        TEMPORAL_NAMESPACE: namespace(),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('relay-test-ca.pem'),
      });
      assert.equal(s.tls, true);
      assert.equal(s.serverCA, true);
      assert.equal(
        describeTemporalConnection(s),
        `temporal 127.0.0.1:${proxy.port} namespace ${namespace()} (TLS, own server CA)`,
      );
      await clientWorks(s);
      await workerConnectionWorks(s);
      assert.ok(proxy.peers.length >= before + 2, 'both went through the TLS proxy');
    },
  );

  test('TEMPORAL_TLS_SERVER_CA_CERT_DATA and a localhost address', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings({
      TEMPORAL_ADDRESS: `localhost:${proxy.port}`,
      TEMPORAL_NAMESPACE: namespace(),
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pem('relay-test-ca.pem'), 'utf8'),
    });
    await clientWorks(s);
    await workerConnectionWorks(s);
  });

  test('TEMPORAL_TLS_SERVER_NAME is the name the certificate is checked against', TEST_TIMEOUT, async () => {
    const base = {
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_NAMESPACE: namespace(),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('relay-test-ca.pem'),
    };
    const right = temporalConnectionSettings({ ...base, TEMPORAL_TLS_SERVER_NAME: 'localhost' });
    assert.equal(right.serverName, 'localhost');
    await clientWorks(right);
    await workerConnectionWorks(right);
    const wrong = temporalConnectionSettings({ ...base, TEMPORAL_TLS_SERVER_NAME: 'elsewhere.invalid' });
    await clientFails(wrong);
    await assert.rejects(NativeConnection.connect(wrong.workerOptions));
  });

  test('without the CA (the system roots) the throwaway server is not trusted', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings({
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_NAMESPACE: namespace(),
      TEMPORAL_TLS: 'true',
    });
    assert.equal(s.tls, true);
    assert.equal(s.serverCA, false);
    await clientFails(s);
    await assert.rejects(NativeConnection.connect(s.workerOptions));
  });
});

describe('mTLS: the proxy requires a client certificate signed by the CA', () => {
  let proxy: TlsProxy;
  const vars = () => ({
    TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
    TEMPORAL_NAMESPACE: namespace(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('relay-test-ca.pem'),
  });
  before(async () => {
    proxy = await startTlsProxy({
      key: readFileSync(pem('server.key')),
      cert: readFileSync(pem('server.pem')),
      ca: readFileSync(pem('relay-test-ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    });
  });

  test('with TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH both connection kinds connect', TEST_TIMEOUT, async () => {
    const before = proxy.peers.length;
    const s = temporalConnectionSettings({
      ...vars(),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem('client.key'),
    });
    assert.equal(s.mtls, true);
    await clientWorks(s);
    await workerConnectionWorks(s);
    assert.deepEqual(
      proxy.peers.slice(before).filter((cn) => cn !== 'client'),
      [],
      'every peer showed the client cert',
    );
    assert.ok(proxy.peers.length >= before + 2);
  });

  test('the certificate and key given as data, with an API key too', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings({
      ...vars(),
      TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(pem('client.pem'), 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pem('client.key'), 'utf8'),
      TEMPORAL_API_KEY: 'relay-test-api-key',
    });
    assert.equal(
      describeTemporalConnection(s),
      `temporal 127.0.0.1:${proxy.port} namespace ${namespace()} (TLS, own server CA, mTLS client cert, API key)`,
    );
    await clientWorks(s);
    await workerConnectionWorks(s);
  });

  test('without a client certificate the handshake is refused', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings(vars());
    assert.equal(s.mtls, false);
    const [peers, since] = [proxy.peers.length, proxy.refusals.length];
    const refused = refusal(proxy, since, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    await clientFails(s);
    await assert.rejects(NativeConnection.connect(s.workerOptions));
    await refused;
    assert.equal(proxy.peers.length, peers, 'no handshake completed');
  });

  test('a client certificate of another CA is refused', TEST_TIMEOUT, async () => {
    const s = temporalConnectionSettings({
      ...vars(),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem('rogue-client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem('rogue-client.key'),
    });
    assert.equal(s.mtls, true);
    const peers = proxy.peers.length;
    await clientFails(s);
    await assert.rejects(NativeConnection.connect(s.workerOptions));
    assert.equal(proxy.peers.length, peers, 'no handshake completed');
  });
});

const sha256 = (bytes: Uint8Array | undefined) => bytes && createHash('sha256').update(bytes).digest('hex');
const digests = (tls: TemporalConnectionSettings['clientOptions']['tls']) => {
  assert.ok(typeof tls === 'object' && tls !== null, 'TLS options');
  const { serverRootCACertificate: ca, clientCertPair: pair } = tls;
  return { ca: sha256(ca), crt: sha256(pair?.crt), key: sha256(pair?.key) };
};

describe('settings from real certificates', () => {
  test('a file and its contents give the same options', () => {
    const fromPaths = temporalConnectionSettings({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('relay-test-ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem('client.key'),
    });
    const fromData = temporalConnectionSettings({
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pem('relay-test-ca.pem'), 'utf8'),
      TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(pem('client.pem'), 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pem('client.key'), 'utf8'),
    });
    // Compared as digests: a failing assertion must not print the key.
    assert.deepEqual(digests(fromData.clientOptions.tls), digests(fromPaths.clientOptions.tls));
    assert.deepEqual(digests(fromData.workerOptions.tls), digests(fromPaths.workerOptions.tls));
    assert.deepEqual(digests(fromPaths.clientOptions.tls), {
      ca: sha256(readFileSync(pem('relay-test-ca.pem'))),
      crt: sha256(readFileSync(pem('client.pem'))),
      key: sha256(readFileSync(pem('client.key'))),
    });
    const tls = fromPaths.workerOptions.tls;
    assert.ok(typeof tls === 'object' && tls !== null && Buffer.isBuffer(tls.serverRootCACertificate));
  });

  test('a key that is not the certificate’s is named, both variables', () => {
    assert.throws(
      () =>
        temporalConnectionSettings({
          TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: pem('rogue-client.key'),
        }),
      /TEMPORAL_TLS_CLIENT_KEY_PATH is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });

  test('contents that are not a private key are named, not echoed', () => {
    const junk = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49-not-a-key-7c1e\n-----END PRIVATE KEY-----\n';
    assert.throws(
      () =>
        temporalConnectionSettings({
          TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
          TEMPORAL_TLS_CLIENT_KEY_DATA: junk,
        }),
      (err: Error) => {
        assert.equal(err.message, 'TEMPORAL_TLS_CLIENT_KEY_DATA is not an unencrypted PEM private key');
        return true;
      },
    );
  });

  test('a CA variable naming a key file is refused without echoing the key', () => {
    const key = readFileSync(pem('client.key'), 'utf8');
    assert.throws(
      () => temporalConnectionSettings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('client.key') }),
      (err: Error) => {
        assert.match(err.message, /^TEMPORAL_TLS_SERVER_CA_CERT_PATH is not a PEM certificate$/);
        assert.ok(!err.message.includes(key.split('\n')[1] ?? key));
        return true;
      },
    );
  });

  test('a temporal.toml profile with certificate paths, the environment over it', () => {
    const file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.cloud]',
        'address = "relay.tmprl.example:7233"',
        'namespace = "relay.acct"',
        '[profile.cloud.tls]',
        `server_ca_cert_path = ${JSON.stringify(pem('relay-test-ca.pem'))}`,
        `client_cert_path = ${JSON.stringify(pem('client.pem'))}`,
        `client_key_path = ${JSON.stringify(pem('client.key'))}`,
      ].join('\n'),
    );
    const s = temporalConnectionSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'relay.other',
    });
    assert.equal(s.address, 'relay.tmprl.example:7233');
    assert.equal(s.namespace, 'relay.other');
    assert.equal(s.mtls, true);
    assert.equal(s.profile, 'cloud');
    assert.equal(
      describeTemporalConnection(s),
      `temporal relay.tmprl.example:7233 namespace relay.other (TLS, own server CA, mTLS client cert; profile cloud of ${file})`,
    );
  });
});
