import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cm360Credentials, ConfigError, loadConfig } from '../../src/config/env';

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
