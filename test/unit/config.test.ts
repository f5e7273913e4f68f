import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { cm360Credentials, ConfigError, loadConfig, payloadKeys } from '../../src/config/env';
import { payloadCodec } from '../../src/temporal/data-converter';

describe('loadConfig', () => {
  test('defaults follow the Flow D durations', () => {
    const env = loadConfig({});
    assert.equal(env.CM360_ENHANCE_DELAY, 90 * 60_000);
    assert.equal(env.CM360_NOT_FOUND_WINDOW, 6 * 3_600_000);
    assert.equal(env.CM360_DEADLINE, 24 * 3_600_000);
    assert.equal(env.CM360_QPS, 1);
    assert.equal(env.RELAY_HTTP_PORT, 8080);
  });

  test('durations are read like Temporal durations', () => {
    assert.equal(loadConfig({ CM360_ENHANCE_DELAY: '2s' }).CM360_ENHANCE_DELAY, 2000);
  });

  test('names every bad variable without echoing secrets', () => {
    assert.throws(
      () => loadConfig({ CM360_ENHANCE_DELAY: 'soon', RELAY_HTTP_PORT: 'eighty', RELAY_DEFAULT_PHONE_REGION: 'USA' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /CM360_ENHANCE_DELAY/);
        assert.match(err.message, /RELAY_HTTP_PORT/);
        assert.match(err.message, /RELAY_DEFAULT_PHONE_REGION/);
        return true;
      },
    );
  });

  test('RELAY_PUBLIC_URL is a base URL with its scheme (HubSpot signs the full URL)', () => {
    assert.equal(
      loadConfig({ RELAY_PUBLIC_URL: 'https://relay.example.com' }).RELAY_PUBLIC_URL,
      'https://relay.example.com',
    );
    assert.equal(
      loadConfig({ RELAY_PUBLIC_URL: 'https://example.com/relay/' }).RELAY_PUBLIC_URL,
      'https://example.com/relay/',
    );
    assert.equal(loadConfig({ RELAY_PUBLIC_URL: ' ' }).RELAY_PUBLIC_URL, undefined);
    for (const bad of ['relay.example.com', 'ftp://relay.example.com', 'https://relay.example.com/?a=1']) {
      assert.throws(() => loadConfig({ RELAY_PUBLIC_URL: bad }), /RELAY_PUBLIC_URL/, bad);
    }
  });

  test('RELAY_TRUST_PROXY: unset or false trusts nobody, true everyone, else a list of addresses and CIDRs', () => {
    const trust = (value?: string) =>
      loadConfig(value === undefined ? {} : { RELAY_TRUST_PROXY: value }).RELAY_TRUST_PROXY;
    assert.equal(trust(), false);
    assert.equal(trust(''), false);
    assert.equal(trust(' '), false);
    assert.equal(trust('false'), false);
    assert.equal(trust('FALSE'), false);
    assert.equal(trust('true'), true);
    assert.equal(trust(' True '), true);
    assert.deepEqual(trust('127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(trust(' 10.0.0.0/8, 192.168.1.1/24 ,::1,fd00::/8,'), [
      '10.0.0.0/8',
      '192.168.1.1/24',
      '::1',
      'fd00::/8',
    ]);
    assert.deepEqual(trust('loopback,uniquelocal,linklocal'), ['loopback', 'uniquelocal', 'linklocal']);
    assert.deepEqual(trust('::ffff:127.0.0.1'), ['::ffff:127.0.0.1']);
  });

  test('RELAY_TRUST_PROXY: every value it accepts is one Fastify compiles', () => {
    for (const value of [
      'true',
      '127.0.0.1',
      '10.0.0.0/8,::1/128',
      'fd00::/8',
      'loopback',
      '::ffff:10.1.2.3',
      '1.2.3.4/32',
    ]) {
      const trustProxy = loadConfig({ RELAY_TRUST_PROXY: value }).RELAY_TRUST_PROXY;
      // Fastify compiles the trust list (proxy-addr) when the instance is made, and throws on what it cannot read.
      assert.doesNotThrow(() => void Fastify({ trustProxy }), value);
    }
  });

  test('RELAY_TRUST_PROXY: a hop count or a bad entry refuses to start, naming the variable, never the value', () => {
    const refused = (value: string, message: RegExp) =>
      assert.throws(
        () => loadConfig({ RELAY_TRUST_PROXY: value }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /RELAY_TRUST_PROXY: /);
          assert.match(err.message, message);
          // An operator may paste a secret into the wrong variable: what is wrong is said by position.
          for (const part of value.split(',').filter((p) => p.trim().length > 1)) {
            assert.ok(!err.message.includes(part.trim()), `${JSON.stringify(part)} is not echoed`);
          }
          return true;
        },
        value,
      );
    // Fastify 5 ignores a number: it cannot tell a proxy from a client that sends X-Forwarded-* itself.
    refused('1', /a hop count is not supported/);
    refused('2', /a hop count is not supported/);
    refused('10.0.0.1,my-proxy.internal', /entry 2 is not an IP address, a CIDR/);
    refused('sk_live_0123456789abcdef', /entry 1 is not an IP address/);
    refused('10.0.0.0/33', /entry 1 /);
    refused('::1/129', /entry 1 /);
    refused('10.0.0.0/0', /entry 1 /);
    refused('10.0.0.0/8x', /entry 1 /);
    refused('127.1', /entry 1 /);
    refused('fe80::1%eth0', /entry 1 /);
    refused('yes', /entry 1 /);
    refused(',', /no entry is/);
  });

  test('the *_SANDBOX_URL variables of relay sandbox are URLs; blank is unset', () => {
    const env = loadConfig({
      CM360_SANDBOX_URL: 'http://127.0.0.1:8089',
      HUBSPOT_SANDBOX_URL: ' http://127.0.0.1:8090/ ',
      GOOGLE_ADS_SANDBOX_CONTROL_URL: '',
    });
    assert.equal(env.CM360_SANDBOX_URL, 'http://127.0.0.1:8089');
    assert.equal(env.HUBSPOT_SANDBOX_URL, 'http://127.0.0.1:8090/');
    assert.equal(env.GOOGLE_ADS_SANDBOX_CONTROL_URL, undefined);
    assert.equal(env.PENDO_SANDBOX_URL, undefined);
    assert.throws(() => loadConfig({ PENDO_SANDBOX_URL: 'not a url' }), /PENDO_SANDBOX_URL: a URL such as/);
  });

  test('picks CM360 credentials, and refuses half an OAuth setup', () => {
    assert.equal(cm360Credentials(loadConfig({})), undefined);
    assert.deepEqual(cm360Credentials(loadConfig({ CM360_ACCESS_TOKEN: 't' })), {
      type: 'access-token',
      accessToken: 't',
    });
    assert.equal(cm360Credentials(loadConfig({ CM360_SERVICE_ACCOUNT_KEY_FILE: '/k.json' }))?.type, 'service-account');
    assert.throws(() => cm360Credentials(loadConfig({ CM360_OAUTH_CLIENT_ID: 'id' })), /CM360_OAUTH_REFRESH_TOKEN/);
  });
});

describe('payload keys', () => {
  const KEY_A = Buffer.alloc(32, 1).toString('base64');
  const KEY_B = Buffer.alloc(32, 2).toString('base64');
  const refuses = (env: Record<string, string>, variable: RegExp, secret?: string) =>
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, variable);
        if (secret) assert.ok(!err.message.includes(secret), 'the key is never echoed');
        return true;
      },
    );

  test('the current key encrypts; previous keys, each with its id, only decrypt', async () => {
    const env = loadConfig({
      RELAY_PAYLOAD_KEY: KEY_B,
      RELAY_PAYLOAD_KEY_ID: 'relay-2026',
      RELAY_PAYLOAD_PREVIOUS_KEYS: ` relay-2025:${KEY_A} `,
    });
    assert.deepEqual(payloadKeys(env), {
      current: { id: 'relay-2026', key: KEY_B },
      previous: [{ id: 'relay-2025', key: KEY_A }],
    });
    const codec = payloadCodec(payloadKeys(env).current, payloadKeys(env).previous);
    const plain = { metadata: {}, data: Buffer.from('{"a":1}') };
    const [old] = await payloadCodec({ id: 'relay-2025', key: KEY_A }).encode([plain]);
    assert.equal(Buffer.from((await codec.decode([old!]))[0]!.data!).toString(), '{"a":1}');
    const [fresh] = await codec.encode([plain]);
    assert.equal(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString(), 'relay-2026');
  });

  for (const [what, key] of [
    ['not base64', 'this is not a key at all, not even close!!!='],
    ['16 bytes', Buffer.alloc(16, 3).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 3).toString('base64')],
    ['hex instead of base64', Buffer.alloc(32, 3).toString('hex')],
  ] as const) {
    test(`a malformed current key (${what}) refuses to start, naming the variable, not the key`, () => {
      refuses({ RELAY_PAYLOAD_KEY: key }, /RELAY_PAYLOAD_KEY: a key is 32 random bytes in base64/, key);
    });
  }

  test('malformed previous keys are named by position, never echoed', () => {
    const short = Buffer.alloc(8, 4).toString('base64');
    refuses(
      { RELAY_PAYLOAD_KEY: KEY_A, RELAY_PAYLOAD_PREVIOUS_KEYS: `old:${KEY_B},broken:${short},${KEY_B}` },
      /RELAY_PAYLOAD_PREVIOUS_KEYS: entry 2 is not id:key[\s\S]*entry 3 is not id:key/,
      short,
    );
  });

  test('two keys with one id are refused: a payload must name exactly one key', () => {
    refuses(
      { RELAY_PAYLOAD_KEY: KEY_A, RELAY_PAYLOAD_KEY_ID: 'k1', RELAY_PAYLOAD_PREVIOUS_KEYS: `k1:${KEY_B}` },
      /RELAY_PAYLOAD_PREVIOUS_KEYS: key id\(s\) k1 given twice/,
    );
  });

  test('a key id with characters other than letters, digits, dots, dashes and underscores is refused', () => {
    refuses({ RELAY_PAYLOAD_KEY: KEY_A, RELAY_PAYLOAD_KEY_ID: 'my key' }, /RELAY_PAYLOAD_KEY_ID/);
  });

  test('the codec token is at least 16 url-safe characters', () => {
    refuses({ RELAY_CODEC_TOKEN: 'short' }, /RELAY_CODEC_TOKEN/);
    assert.equal(loadConfig({ RELAY_CODEC_TOKEN: 'a'.repeat(24) }).RELAY_CODEC_TOKEN, 'a'.repeat(24));
  });
});
