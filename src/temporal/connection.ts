// Where the relay's Temporal connections (the api's Client, the worker's NativeConnection) point and how they
// authenticate, loaded the Temporal way with @temporalio/envconfig: the TEMPORAL_* variables over a profile
// of a temporal.toml file (TEMPORAL_CONFIG_FILE, else the user's Temporal config file). The environment is an
// argument: nothing here reads process.env. Secrets (the API key, the client key) stay in the two options
// objects; everything else of the settings may be shown to an operator.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { inspect } from 'node:util';
import type { ConnectionOptions } from '@temporalio/client';
import { normalizeGrpcEndpointAddress, type TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import {
  loadClientConfig,
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ClientConfigTLS,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError } from '../config/env';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';
const DEFAULT_PORT = 7233;
const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/** The options both connection kinds accept: address, TLS, API key and gRPC metadata. */
export type TemporalConnectOptions = Pick<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> &
  Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;

export interface TemporalConnectionSettings {
  /** host:port, the port defaulted to 7233. */
  address: string;
  namespace: string;
  /** TLS on: asked for with a TLS setting, or implied by the API key (TEMPORAL_TLS=false turns it off). */
  tls: boolean;
  /** The server is checked against a CA of its own (TEMPORAL_TLS_SERVER_CA_CERT_*), not the system's roots. */
  serverCA: boolean;
  /** The name the server's certificate is checked against instead of the address's host. */
  serverName: string | undefined;
  /** A client certificate is presented (mTLS). */
  mtls: boolean;
  /** An API key is sent (as `authorization: Bearer …`). */
  apiKey: boolean;
  /** Names (never values) of the extra gRPC headers (TEMPORAL_GRPC_META_*, grpc_meta). */
  grpcMetadata: string[];
  /** The temporal.toml profile used, if a config file has one. */
  profile: string | undefined;
  /** The temporal.toml read, if any. */
  configFile: string | undefined;
  /** For `Connection.connect(settings.clientOptions)` (the api, the CLI). Holds the secrets. */
  clientOptions: ConnectionOptions & TemporalConnectOptions;
  /** For `NativeConnection.connect(settings.workerOptions)` (the worker). Holds the secrets. */
  workerOptions: NativeConnectionOptions & TemporalConnectOptions;
}

interface ConfigFile {
  path: string;
  data: string;
}

/** Where a value came from, as an operator would look for it. */
interface Origins {
  file: ConfigFile | undefined;
  profile: string | undefined;
  vars: Record<string, string>;
}

function fromFile(o: Origins, key: string): string {
  return `${key} of profile "${o.profile ?? 'default'}" in ${o.file?.path ?? 'the Temporal config file'}`;
}

function origin(o: Origins, envVar: string, tomlKey: string): string {
  return o.vars[envVar] !== undefined ? envVar : fromFile(o, tomlKey);
}

function parseBool(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${name} must be true or false (or 1 or 0)`);
}

/**
 * The TEMPORAL_* variables envconfig reads, cleaned: a blank value counts as unset (as everywhere in the relay,
 * so an empty `TEMPORAL_API_KEY=` of a .env file does not turn TLS on), except TEMPORAL_GRPC_META_*, where an
 * empty value removes a header of the file. Booleans are checked: envconfig takes anything but `1`/`true` as
 * false, so `TEMPORAL_TLS=yes` would quietly turn TLS off.
 */
function temporalVars(env: Record<string, string | undefined>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TEMPORAL_') || raw === undefined) continue;
    if (raw.trim() === '' && !name.startsWith(GRPC_META_PREFIX)) continue;
    // Certificate and key contents are kept byte for byte; names, paths and the API key lose stray whitespace.
    vars[name] = name.endsWith('_DATA') ? raw : raw.trim();
  }
  if (vars.TEMPORAL_TLS !== undefined) vars.TEMPORAL_TLS = String(parseBool('TEMPORAL_TLS', vars.TEMPORAL_TLS));
  const noHostCheck = vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;
  if (noHostCheck !== undefined && parseBool('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', noHostCheck)) {
    throw new ConfigError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK: give the server CA ' +
        '(TEMPORAL_TLS_SERVER_CA_CERT_PATH) and the name on its certificate (TEMPORAL_TLS_SERVER_NAME) instead',
    );
  }
  delete vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;
  for (const item of ['CLIENT_CERT', 'CLIENT_KEY', 'SERVER_CA_CERT']) {
    const [path, data] = [`TEMPORAL_TLS_${item}_PATH`, `TEMPORAL_TLS_${item}_DATA`];
    if (vars[path] !== undefined && vars[data] !== undefined) {
      throw new ConfigError(`${path} and ${data} are both set: give the file or its contents, not both`);
    }
  }
  return vars;
}

/** The user's temporal.toml, where envconfig (and the Temporal CLI) look for it. */
function defaultConfigFilePath(env: Record<string, string | undefined>): string | undefined {
  const file = join('temporalio', 'temporal.toml');
  switch (process.platform) {
    case 'win32':
      return env.APPDATA ? join(env.APPDATA, file) : undefined;
    case 'darwin':
      return env.HOME ? join(env.HOME, 'Library', 'Application Support', file) : undefined;
    default: {
      const xdg = env.XDG_CONFIG_HOME;
      if (xdg) return isAbsolute(xdg) ? join(xdg, file) : undefined;
      return env.HOME ? join(env.HOME, '.config', file) : undefined;
    }
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** TEMPORAL_CONFIG_FILE must be readable; the default file may be absent. */
function readConfigFile(env: Record<string, string | undefined>, vars: Record<string, string>): ConfigFile | undefined {
  const named = vars.TEMPORAL_CONFIG_FILE;
  const path = named ?? defaultConfigFilePath(env);
  if (path === undefined) return undefined;
  try {
    return { path, data: readFileSync(path, 'utf8') };
  } catch (err) {
    if (named === undefined && errorCode(err) === 'ENOENT') return undefined;
    const who = named === undefined ? 'the Temporal config file' : 'TEMPORAL_CONFIG_FILE';
    throw new ConfigError(`${who}: cannot read ${path} (${errorCode(err)})`);
  }
}

/** The error's own words, without smol-toml's excerpt of the file (a line of it could hold an api_key). */
function safeMessage(err: unknown): string {
  const e = err as { message?: unknown; line?: unknown; column?: unknown };
  const first = (typeof e.message === 'string' ? e.message : String(err)).split('\n')[0] ?? '';
  return typeof e.line === 'number' ? `${first} (line ${e.line}, column ${String(e.column)})` : first;
}

function fileProfiles(file: ConfigFile): Record<string, ClientConfigProfile> {
  try {
    return loadClientConfig({ configSource: { data: file.data }, configFileStrict: true }).profiles;
  } catch (err) {
    throw new ConfigError(`${file.path}: ${safeMessage(err)}`);
  }
}

function readSource(source: ConfigDataSource, where: string): Buffer {
  if ('path' in source) {
    if (typeof source.path !== 'string') throw new ConfigError(`${where} must be a file path`);
    try {
      return readFileSync(source.path);
    } catch (err) {
      throw new ConfigError(`${where}: cannot read ${source.path} (${errorCode(err)})`);
    }
  }
  return Buffer.from(source.data);
}

function certificate(bytes: Buffer, where: string): X509Certificate {
  try {
    if (!bytes.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
    return new X509Certificate(bytes);
  } catch {
    throw new ConfigError(`${where} is not a PEM certificate`);
  }
}

function privateKey(bytes: Buffer, where: string): KeyObject {
  try {
    return createPrivateKey({ key: bytes, format: 'pem' });
  } catch {
    // The parser's words are left out: nothing of the key is ever echoed.
    throw new ConfigError(`${where} is not an unencrypted PEM private key`);
  }
}

type Item = 'clientCert' | 'clientKey' | 'serverCACert';
const ITEMS: Record<Item, { env: string; toml: string }> = {
  clientCert: { env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'tls.client_cert' },
  clientKey: { env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'tls.client_key' },
  serverCACert: { env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'tls.server_ca_cert' },
};

/** Reads and checks the certificates and key, so a bad one is named now rather than failing a handshake later. */
function resolveTls(tls: ClientConfigTLS, o: Origins): ClientConfigTLS {
  const where = (item: Item): string => {
    const source = tls[item];
    const kind = source && 'path' in source ? 'PATH' : 'DATA';
    return origin(o, `${ITEMS[item].env}_${kind}`, `${ITEMS[item].toml}_${kind.toLowerCase()}`);
  };
  const names = (item: Item) => `${ITEMS[item].env}_PATH/_DATA (or ${ITEMS[item].toml}_path/_data)`;
  if (tls.serverName !== undefined && typeof tls.serverName !== 'string') {
    throw new ConfigError(`${origin(o, 'TEMPORAL_TLS_SERVER_NAME', 'tls.server_name')} must be a string`);
  }
  if (tls.disabled !== undefined && typeof tls.disabled !== 'boolean') {
    throw new ConfigError(`${fromFile(o, 'tls.disabled')} must be true or false`);
  }
  if (!!tls.clientCert !== !!tls.clientKey) {
    const [given, missing]: [Item, Item] = tls.clientCert ? ['clientCert', 'clientKey'] : ['clientKey', 'clientCert'];
    throw new ConfigError(`${where(given)} is set but not ${names(missing)}: mTLS needs both`);
  }
  const resolved: ClientConfigTLS = { ...tls };
  if (tls.serverName?.trim() === '') delete resolved.serverName;
  if (tls.serverCACert) {
    const bytes = readSource(tls.serverCACert, where('serverCACert'));
    certificate(bytes, where('serverCACert'));
    resolved.serverCACert = { data: bytes };
  }
  if (tls.clientCert && tls.clientKey) {
    const certBytes = readSource(tls.clientCert, where('clientCert'));
    const keyBytes = readSource(tls.clientKey, where('clientKey'));
    const cert = certificate(certBytes, where('clientCert'));
    const key = privateKey(keyBytes, where('clientKey'));
    if (!cert.checkPrivateKey(key)) {
      throw new ConfigError(`${where('clientKey')} is not the key of the certificate in ${where('clientCert')}`);
    }
    resolved.clientCert = { data: certBytes };
    resolved.clientKey = { data: keyBytes };
  }
  return resolved;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigError(`${where} must be a string`);
  return value.trim() === '' ? undefined : value.trim();
}

/** Keeps JSON.stringify, console.log and util.inspect of an object holding secrets to what may be shown. */
function redacted<T extends object>(target: T, view: () => unknown): T {
  Object.defineProperty(target, 'toJSON', { value: view, enumerable: false });
  Object.defineProperty(target, inspect.custom, { value: () => view(), enumerable: false });
  return target;
}

function tlsCopy(tls: TLSConfig | boolean | null | undefined): TLSConfig | boolean {
  if (typeof tls !== 'object' || tls === null) return tls === true;
  const { serverNameOverride, serverRootCACertificate, clientCertPair } = tls;
  return {
    ...(serverNameOverride !== undefined ? { serverNameOverride } : {}),
    ...(serverRootCACertificate !== undefined ? { serverRootCACertificate: Buffer.from(serverRootCACertificate) } : {}),
    ...(clientCertPair !== undefined
      ? { clientCertPair: { crt: Buffer.from(clientCertPair.crt), key: Buffer.from(clientCertPair.key) } }
      : {}),
  };
}

/**
 * The Temporal connection of the relay from `env` (the process environment, passed in): TEMPORAL_* variables
 * over the profile (TEMPORAL_PROFILE, else "default") of TEMPORAL_CONFIG_FILE or the user's temporal.toml.
 * Unset: 127.0.0.1:7233, namespace default, no TLS. An API key turns TLS on unless TEMPORAL_TLS=false.
 * Throws a ConfigError naming the variable (or file key) of an unreadable file or a malformed setting; the
 * message never holds a key, a certificate or a header value.
 */
export function temporalConnectionSettings(env: Record<string, string | undefined>): TemporalConnectionSettings {
  const vars = temporalVars(env);
  const file = readConfigFile(env, vars);
  const profiles = file ? fileProfiles(file) : {};
  const requested = vars.TEMPORAL_PROFILE;
  if (requested !== undefined && profiles[requested] === undefined) {
    throw new ConfigError(
      file
        ? `TEMPORAL_PROFILE: ${file.path} has no profile "${requested}" (it has: ${Object.keys(profiles).join(', ') || 'none'})`
        : `TEMPORAL_PROFILE is "${requested}" but there is no Temporal config file (set TEMPORAL_CONFIG_FILE)`,
    );
  }
  const profileName = requested ?? (profiles.default ? 'default' : undefined);
  const o: Origins = { file, profile: profileName, vars };
  // envconfig refuses a file of the profile and contents from the environment (or the reverse) for one item.
  const fileTls = profileName !== undefined ? profiles[profileName]?.tls : undefined;
  for (const item of Object.keys(ITEMS) as Item[]) {
    const source = fileTls?.[item];
    if (!source) continue;
    const [inFile, inEnv] = 'path' in source ? ['path', 'DATA'] : ['data', 'PATH'];
    const envVar = `${ITEMS[item].env}_${inEnv}`;
    if (vars[envVar] !== undefined) {
      throw new ConfigError(
        `${envVar} and ${fromFile(o, `${ITEMS[item].toml}_${inFile}`)} are both set: give the file or its contents, not both`,
      );
    }
  }

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      ...(file ? { configSource: { data: file.data }, configFileStrict: true } : { disableFile: true }),
      overrideEnvVars: vars,
    });
  } catch (err) {
    const where = file ? `the environment and ${fromFile(o, 'the settings')}` : 'the TEMPORAL_* variables';
    throw new ConfigError(`Temporal connection (${where}): ${safeMessage(err)}`);
  }

  const addressWhere = origin(o, 'TEMPORAL_ADDRESS', 'address');
  const given = optionalString(profile.address, addressWhere) ?? DEFAULT_TEMPORAL_ADDRESS;
  let address: string;
  try {
    address = normalizeGrpcEndpointAddress(given, DEFAULT_PORT);
  } catch {
    throw new ConfigError(
      `${addressWhere} must be host:port (or host), without a scheme, e.g. ${DEFAULT_TEMPORAL_ADDRESS}`,
    );
  }
  const namespace =
    optionalString(profile.namespace, origin(o, 'TEMPORAL_NAMESPACE', 'namespace')) ?? DEFAULT_TEMPORAL_NAMESPACE;
  const apiKey = optionalString(profile.apiKey, origin(o, 'TEMPORAL_API_KEY', 'api_key'));
  const metadata = profile.grpcMeta;
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string')
      throw new ConfigError(`gRPC header "${name}" (${fromFile(o, 'grpc_meta')}) must be a string`);
  }
  if (apiKey !== undefined && metadata && Object.keys(metadata).some((k) => k.toLowerCase() === 'authorization')) {
    throw new ConfigError(
      `${origin(o, 'TEMPORAL_API_KEY', 'api_key')} and an authorization gRPC header ` +
        '(TEMPORAL_GRPC_META_AUTHORIZATION or grpc_meta) are both set: set only one',
    );
  }

  // TLS explicitly off wins, as in envconfig: no certificate is then read.
  const tlsSettings = profile.tls && profile.tls.disabled !== true ? resolveTls(profile.tls, o) : profile.tls;
  // envconfig's own rule: TLS when any TLS setting is given, or when there is an API key; off when disabled.
  const { connectionOptions } = toClientOptions({ ...profile, apiKey, tls: tlsSettings });
  const tls = tlsCopy(connectionOptions.tls);
  const tlsOn = tls !== false;

  const options = () => ({
    address,
    tls: tlsCopy(tls),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(metadata ? { metadata: { ...metadata } } : {}),
  });
  const clientOptions: TemporalConnectionSettings['clientOptions'] = options();
  const workerOptions: TemporalConnectionSettings['workerOptions'] = options();
  const settings: TemporalConnectionSettings = {
    address,
    namespace,
    tls: tlsOn,
    serverCA: tlsOn && tlsSettings?.serverCACert !== undefined,
    serverName: tlsOn ? tlsSettings?.serverName : undefined,
    mtls: tlsOn && tlsSettings?.clientCert !== undefined,
    apiKey: apiKey !== undefined,
    grpcMetadata: Object.keys(metadata ?? {}).sort(),
    profile: profileName,
    configFile: file?.path,
    clientOptions,
    workerOptions,
  };
  const view = () => describeTemporalConnection(settings);
  redacted(clientOptions, () => `clientOptions of ${view()}`);
  redacted(workerOptions, () => `workerOptions of ${view()}`);
  return redacted(settings, view);
}

/** One line for logs and banners; never a key, a certificate or a header value. */
export function describeTemporalConnection(s: TemporalConnectionSettings): string {
  const parts = [s.tls ? 'TLS' : 'no TLS'];
  if (s.serverCA) parts.push('own server CA');
  if (s.serverName !== undefined) parts.push(`server name ${s.serverName}`);
  if (s.mtls) parts.push('mTLS client cert');
  if (s.apiKey) parts.push('API key');
  if (s.grpcMetadata.length > 0) parts.push(`gRPC headers ${s.grpcMetadata.join(', ')}`);
  const from = s.profile !== undefined ? `; profile ${s.profile} of ${s.configFile}` : '';
  return `temporal ${s.address} namespace ${s.namespace} (${parts.join(', ')}${from})`;
}
