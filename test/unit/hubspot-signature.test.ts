// HubSpot signatures, checked against HubSpot's documented examples (v1, v2) and, for v3 (whose docs
// give the recipe but no worked example), against the vendor SDK's own implementation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Signature } from '@hubspot/api-client';
import {
  decodeHubSpotUri,
  v1Signature,
  v2Signature,
  v3Signature,
  verifyHubSpotSignature,
} from '../../src/api/hubspot-signature';

const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';

describe('documented examples', () => {
  test('v1: the contact.creation example body', () => {
    const body =
      '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
    assert.equal(v1Signature(SECRET, body), '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de');
  });

  test('v2: GET without a body', () => {
    assert.equal(
      v2Signature(SECRET, 'GET', 'https://www.example.com/webhook_uri', ''),
      'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
    );
  });

  test('v2: POST with a body', () => {
    assert.equal(
      v2Signature(SECRET, 'POST', 'https://www.example.com/webhook_uri', '{"example_field":"example_value"}'),
      '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
    );
  });
});

describe('v3', () => {
  const now = 1_795_000_000_000;
  const url = 'https://relay.example.com/webhooks/hubspot?portal=62515';
  const body = '[{"eventId":7,"objectId":123,"propertyName":"lifecyclestage","propertyValue":"lead"}]';
  const signed = (overrides: Partial<{ url: string; body: string; ts: number; sig: string }> = {}) => {
    const ts = String(overrides.ts ?? now - 1000);
    return {
      method: 'POST',
      url: overrides.url ?? url,
      rawBody: overrides.body ?? body,
      headers: {
        'x-hubspot-signature-v3': overrides.sig ?? v3Signature(SECRET, 'POST', url, body, ts),
        'x-hubspot-request-timestamp': ts,
      },
    };
  };

  test('agrees with the HubSpot SDK on the same request', () => {
    // The SDK checks the age against the real clock, so this case is signed now.
    const ts = Date.now() - 1000;
    const sdkAccepts = (signature: string, requestBody: string) =>
      Signature.isValid({
        signature,
        clientSecret: SECRET,
        requestBody,
        signatureVersion: 'v3',
        url,
        method: 'POST',
        timestamp: ts,
      });
    const ours = v3Signature(SECRET, 'POST', url, body, String(ts));
    assert.equal(sdkAccepts(ours, body), true);
    assert.equal(sdkAccepts(ours, body + ' '), false);
  });

  test('accepts a fresh, correct signature', () => {
    assert.deepEqual(verifyHubSpotSignature(signed(), SECRET, { now }), { ok: true, version: 'v3' });
  });

  test('rejects a changed body, URL or secret', () => {
    assert.equal(verifyHubSpotSignature({ ...signed(), rawBody: body + ' ' }, SECRET, { now }).ok, false);
    assert.equal(verifyHubSpotSignature({ ...signed(), url: url + '&x=1' }, SECRET, { now }).ok, false);
    assert.equal(verifyHubSpotSignature(signed(), 'other-secret', { now }).ok, false);
  });

  test('rejects timestamps older than 5 minutes, even with a correct signature', () => {
    const ts = now - 5 * 60_000 - 1;
    const sig = v3Signature(SECRET, 'POST', url, body, String(ts));
    assert.deepEqual(verifyHubSpotSignature(signed({ ts, sig }), SECRET, { now }), {
      ok: false,
      reason: 'timestamp older than 5 minutes',
    });
  });

  test('rejects a missing timestamp and a signature of another length', () => {
    const req = signed();
    delete (req.headers as Record<string, string | undefined>)['x-hubspot-request-timestamp'];
    assert.equal(verifyHubSpotSignature(req, SECRET, { now }).ok, false);
    assert.equal(verifyHubSpotSignature(signed({ sig: 'short' }), SECRET, { now }).ok, false);
  });

  test('decodes exactly the escapes HubSpot lists, before hashing', () => {
    assert.equal(
      decodeHubSpotUri('https://x.io/a%3Ab%2Fc%3Fd%40e%21f%24g%27h%28i%29j%2Ak%2Cl%3Bm%20n'),
      "https://x.io/a:b/c?d@e!f$g'h(i)j*k,l;m%20n",
    );
    const encoded = 'https://relay.example.com/webhooks/hubspot?email=a%40b.com';
    const ts = String(now);
    const sig = v3Signature(SECRET, 'POST', 'https://relay.example.com/webhooks/hubspot?email=a@b.com', body, ts);
    assert.equal(
      verifyHubSpotSignature(
        {
          method: 'POST',
          url: encoded,
          rawBody: body,
          headers: { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts },
        },
        SECRET,
        { now },
      ).ok,
      true,
    );
  });
});

describe('legacy versions', () => {
  const body = '{"example_field":"example_value"}';
  const req = (headers: Record<string, string>) => ({
    method: 'POST',
    url: 'https://www.example.com/webhook_uri',
    rawBody: body,
    headers,
  });

  test('are refused unless allowed', () => {
    const r = verifyHubSpotSignature(
      req({
        'x-hubspot-signature': '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
        'x-hubspot-signature-version': 'v2',
      }),
      SECRET,
    );
    assert.equal(r.ok, false);
  });

  test('v2 passes with the documented hash when allowed', () => {
    const r = verifyHubSpotSignature(
      req({
        'x-hubspot-signature': '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
        'x-hubspot-signature-version': 'v2',
      }),
      SECRET,
      { allowLegacy: true },
    );
    assert.deepEqual(r, { ok: true, version: 'v2' });
  });

  test('no signature at all is refused', () => {
    assert.equal(verifyHubSpotSignature(req({}), SECRET, { allowLegacy: true }).ok, false);
  });
});
