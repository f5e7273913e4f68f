import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';

/** The failure converter module every data converter and workflow bundle of the relay names by path. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** The data converter every client, worker and replayer of the relay uses. */
export function relayDataConverter(codec: EncryptionCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** A payload key as configured: the id stored with each payload, and the key itself (32 bytes in base64). */
export interface PayloadKey {
  id: string;
  key: string;
}

/**
 * The codec of the configured keys: `current` encrypts every new payload; `previous` keys still decrypt what
 * was written under them (key rotation).
 */
export function payloadCodec(current: PayloadKey | undefined, previous: PayloadKey[] = []): EncryptionCodec {
  if (!current) {
    throw new Error('RELAY_PAYLOAD_KEY is required: 32 random bytes in base64, e.g. `openssl rand -base64 32`');
  }
  const decode = (k: PayloadKey) => ({ id: k.id, key: Buffer.from(k.key, 'base64') });
  return new EncryptionCodec(decode(current), previous.map(decode));
}
