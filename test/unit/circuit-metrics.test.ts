// The credential circuits as a Prometheus scrape shows them: an open account with its type, retry time and
// failures, a counter of openings, and nothing once the account works again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { registerCircuitMetrics } from '../../src/metrics/circuits';

describe('circuit metrics', () => {
  test('an open circuit is scraped with its account and type; a closed one is gone, its openings counted', async () => {
    let now = Date.parse('2026-12-02T10:00:00Z');
    const circuits = new OutageCircuits();
    const registry = new Registry();
    registerCircuitMetrics(registry, circuits, () => now);

    assert.doesNotMatch(await registry.metrics(), /^relay_circuit_open\{/m);
    circuits.failed('google-ads:1234567890', 'GoogleAdsAuthError', 'token revoked', now);
    circuits.failed('hubspot', 'HubSpotAuthError', 'token revoked', now);
    let text = await registry.metrics();
    assert.match(text, /^relay_circuit_open\{account="google-ads:1234567890",type="GoogleAdsAuthError"\} 1$/m);
    assert.match(text, /^relay_circuit_open\{account="hubspot",type="HubSpotAuthError"\} 1$/m);
    assert.match(
      text,
      new RegExp(
        `^relay_circuit_retry_at_seconds\\{account="hubspot",type="HubSpotAuthError"\\} ${now / 1000 + 300}$`,
        'm',
      ),
    );
    assert.doesNotMatch(text, /token revoked/, 'the message stays out of the labels');

    // The probe after five minutes fails again: re-opened for ten, two consecutive failures, two openings.
    now += 5 * 60_000;
    circuits.failed('google-ads:1234567890', 'GoogleAdsAuthError', 'token revoked', now);
    circuits.succeeded('hubspot');
    text = await registry.metrics();
    assert.match(
      text,
      /^relay_circuit_consecutive_failures\{account="google-ads:1234567890",type="GoogleAdsAuthError"\} 2$/m,
    );
    assert.match(text, /^relay_circuit_opened_total\{account="google-ads:1234567890",type="GoogleAdsAuthError"\} 2$/m);
    assert.match(text, /^relay_circuit_opened_total\{account="hubspot",type="HubSpotAuthError"\} 1$/m);
    assert.doesNotMatch(text, /^relay_circuit_open\{account="hubspot"/m, 'closed: no longer open');

    // Past its retry time without a call, the circuit is no longer open (the next call is the probe).
    now += 10 * 60_000 + 1;
    assert.doesNotMatch(await registry.metrics(), /^relay_circuit_open\{/m);
  });
});
