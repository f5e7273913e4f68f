// `relay hubspot sign|send`: test requests signed the way HubSpot signs its own (v3: HMAC-SHA256 of method, URL,
// body and timestamp under the app's client secret), for the URL the api will check — RELAY_PUBLIC_URL when it
// is set, else the address the request is sent to. The secret never leaves this process or reaches the output.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { v3Signature } from '../api/hubspot-signature';

export interface HubSpotTarget {
  /** Where the request is sent (RELAY_API_URL, else the api's host and port). */
  apiUrl: string;
  /** The base URL HubSpot calls and the api checks signatures against (RELAY_PUBLIC_URL), if set. */
  publicUrl?: string;
  /** HUBSPOT_CLIENT_SECRET. */
  secret: string;
}

export const LIFECYCLE_PATH = '/webhooks/hubspot';
export const FORMS_PATH = '/webhooks/hubspot/forms';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The URL the api checks a signature against for `path` (see fullUrl in src/api/hubspot-routes.ts). */
export function checkedUrl(target: Pick<HubSpotTarget, 'apiUrl' | 'publicUrl'>, path: string): string {
  return `${trimSlash(target.publicUrl ?? target.apiUrl)}${path}`;
}

/** The two headers of a v3 signature. */
export function signatureHeaders(
  secret: string,
  method: string,
  url: string,
  body: string,
  timestamp = Date.now(),
): Record<string, string> {
  return {
    'X-HubSpot-Signature-v3': v3Signature(secret, method, url, body, String(timestamp)),
    'X-HubSpot-Request-Timestamp': String(timestamp),
  };
}

/**
 * One lifecycle-stage change as HubSpot's CRM webhook delivers it (contact.propertyChange, in a batch of one).
 * occurredAt is when the stage was entered; the api keys the conversion on it.
 */
export function lifecycleEvent(opts: {
  contactId: string;
  stage: string;
  portalId: string;
  occurredAt?: number;
  eventId?: string;
}): Record<string, unknown>[] {
  return [
    {
      eventId: opts.eventId ?? String(randomInt(1, 2 ** 31)),
      subscriptionId: 1,
      portalId: Number(opts.portalId),
      appId: 1,
      occurredAt: opts.occurredAt ?? Date.now(),
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: Number(opts.contactId),
      propertyName: 'lifecyclestage',
      propertyValue: opts.stage,
      changeSource: 'CRM_UI',
    },
  ];
}

/** `relay hubspot sign`: the headers for a curl of `body` to `path`, and the URL they cover. */
export function runHubSpotSign(
  target: HubSpotTarget,
  opts: { path: string; method?: string; body: string; timestamp?: number },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  const method = (opts.method ?? 'POST').toUpperCase();
  const url = checkedUrl(target, opts.path);
  const headers = signatureHeaders(target.secret, method, url, opts.body, opts.timestamp);
  for (const [name, value] of Object.entries(headers)) out.write(`${name}: ${value}\n`);
  err.write(
    `signed ${method} ${url} and the body as given (byte for byte); valid for 5 minutes.\n` +
      `curl -X ${method} '${trimSlash(target.apiUrl)}${opts.path}' -H 'Content-Type: application/json' ` +
      Object.entries(headers)
        .map(([n, v]) => `-H '${n}: ${v}'`)
        .join(' ') +
      ` --data-binary @body.json\n`,
  );
  return 0;
}

/** Posts `body` to `path`, signed v3 for the URL the api checks (with another secret, to show a refusal). */
export async function postSigned(
  target: HubSpotTarget,
  path: string,
  body: string,
  secret = target.secret,
): Promise<{ url: string; status: number; text: string }> {
  const url = checkedUrl(target, path);
  const headers = signatureHeaders(secret, 'POST', url, body);
  const res = await fetch(`${trimSlash(target.apiUrl)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { url, status: res.status, text: await res.text() };
}

/** `relay hubspot send …`: posts `body` signed to `path` and prints the api's answer; 0 when it was accepted. */
export async function runHubSpotSend(
  target: HubSpotTarget,
  opts: { path: string; body: string },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let res: Awaited<ReturnType<typeof postSigned>>;
  try {
    res = await postSigned(target, opts.path, opts.body);
  } catch (e) {
    err.write(`the api at ${target.apiUrl} did not answer: ${(e as Error).message} (is \`npm start\` running?)\n`);
    return 1;
  }
  err.write(`POST ${res.url} (signed v3) → ${res.status}\n`);
  out.write(`${pretty(res.text)}\n`);
  return res.status >= 200 && res.status < 300 ? 0 : 1;
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A body from a file, or standard input for `-`. */
export function readBody(file: string): string {
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}
