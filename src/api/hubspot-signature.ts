// HubSpot request signatures. v3 is what HubSpot sends today; v1 and v2 are still sent beside it and
// are what a HubSpot workflow's webhook action may carry. The SDK's Signature.isValid compares with ===
// and does not decode the URI as HubSpot's docs require, so the check lives here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** HubSpot rejects, and so do we, v3 timestamps older than this. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

// HubSpot's v3 docs list exactly these escapes to decode in the URI before hashing.
const DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function decodeHubSpotUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED_ESCAPES[m.toUpperCase()] ?? m);
}

export interface SignedRequest {
  method: string;
  /** Full URL as HubSpot called it: scheme, host, path and query. */
  url: string;
  rawBody: string;
  headers: Record<string, string | string[] | undefined>;
}

export type SignatureCheck = { ok: true; version: 'v1' | 'v2' | 'v3' } | { ok: false; reason: string };

const header = (h: SignedRequest['headers'], name: string) => {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function v3Signature(secret: string, method: string, url: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${decodeHubSpotUri(url)}${rawBody}${timestamp}`, 'utf8')
    .digest('base64');
}

export function v2Signature(secret: string, method: string, url: string, rawBody: string): string {
  return createHash('sha256').update(`${secret}${method.toUpperCase()}${url}${rawBody}`, 'utf8').digest('hex');
}

export function v1Signature(secret: string, rawBody: string): string {
  return createHash('sha256').update(`${secret}${rawBody}`, 'utf8').digest('hex');
}

/**
 * Verifies a HubSpot request. v3 is required when its header is present; v1/v2 (no timestamp, so no
 * replay protection) only when `allowLegacy` is set and no v3 header was sent.
 */
export function verifyHubSpotSignature(
  req: SignedRequest,
  clientSecret: string,
  opts: { now?: number; allowLegacy?: boolean } = {},
): SignatureCheck {
  const v3 = header(req.headers, 'x-hubspot-signature-v3');
  if (v3) {
    const timestamp = header(req.headers, 'x-hubspot-request-timestamp');
    if (!timestamp || !/^\d+$/.test(timestamp))
      return { ok: false, reason: 'missing or malformed X-HubSpot-Request-Timestamp' };
    const age = (opts.now ?? Date.now()) - Number(timestamp);
    if (age > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'timestamp older than 5 minutes' };
    if (age < -MAX_SIGNATURE_AGE_MS) return { ok: false, reason: 'timestamp more than 5 minutes in the future' };
    const expected = v3Signature(clientSecret, req.method, req.url, req.rawBody, timestamp);
    return sameText(expected, v3) ? { ok: true, version: 'v3' } : { ok: false, reason: 'v3 signature does not match' };
  }
  const legacy = header(req.headers, 'x-hubspot-signature');
  if (!legacy) return { ok: false, reason: 'no HubSpot signature header' };
  if (!opts.allowLegacy) return { ok: false, reason: 'only v3 signatures are accepted here' };
  const version = header(req.headers, 'x-hubspot-signature-version') ?? 'v1';
  const expected =
    version === 'v2'
      ? v2Signature(clientSecret, req.method, req.url, req.rawBody)
      : version === 'v1'
        ? v1Signature(clientSecret, req.rawBody)
        : undefined;
  if (!expected) return { ok: false, reason: `unknown signature version ${version}` };
  return sameText(expected, legacy.toLowerCase())
    ? { ok: true, version: version as 'v1' | 'v2' }
    : { ok: false, reason: `${version} signature does not match` };
}
