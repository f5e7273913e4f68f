// The import's workflow id: a keyed hash of its normalized rows, so the same file posted twice (or the same
// HubSpot calls pulled twice) imports once, while the id itself reveals nothing: it is keyed with a key derived
// from the payload key (HKDF, so the encryption key itself is never used for anything else), so nobody without
// it can test a guessed caller number against an id seen in the Web UI. A new payload key means new ids: rows
// imported under the old key would import again (Google then answers that they are already recorded).
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { CallImportRow, InvalidCallRow } from './types';

export type CallImportItem = { valid: CallImportRow } | { invalid: InvalidCallRow };

/** The fields that make two rows the same call conversion; the row number does not. */
function canonical(item: CallImportItem): unknown[] {
  if ('valid' in item) {
    const r = item.valid;
    return [
      'v',
      r.callerId,
      r.callStartDateTime,
      r.conversionName,
      r.conversionDateTime,
      r.conversionValue ?? null,
      r.currencyCode,
    ];
  }
  return ['i', ...Object.values(item.invalid.fields)];
}

/** A digest of some rows, in order; digests of parts combine into the import's id. */
export function digestCallRows(items: readonly CallImportItem[]): string {
  const h = createHash('sha256');
  for (const item of items) h.update(`${JSON.stringify(canonical(item))}\n`);
  return h.digest('hex');
}

const idKeys = new Map<string, Buffer>();

function idKey(payloadKey: string): Buffer {
  let key = idKeys.get(payloadKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(payloadKey, 'base64'), '', 'martech-relay call import id', 32));
    idKeys.set(payloadKey, key);
  }
  return key;
}

/** `calls-import-<24 hex>`, an HMAC of the account and the part digests under a key derived from the payload key. */
export function callImportId(digests: readonly string[], customerId: string, payloadKey: string): string {
  if (!payloadKey) throw new RangeError('call import ids need the payload key');
  const text = `${customerId}\n${digests.join('\n')}`;
  return `calls-import-${createHmac('sha256', idKey(payloadKey)).update(text).digest('hex').slice(0, 24)}`;
}

/** Splits items into parts of at most `maxRows` rows and about `maxBytes` of JSON each, in order. */
export function splitIntoParts<T>(items: readonly T[], maxRows: number, maxBytes: number): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
