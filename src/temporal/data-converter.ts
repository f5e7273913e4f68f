import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';

/** The data converter every client, worker and replayer of the relay uses. */
export function relayDataConverter(codec: EncryptionCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

export function codecFromKey(keyId: string, keyBase64: string | undefined): EncryptionCodec {
  if (!keyBase64) {
    throw new Error('RELAY_PAYLOAD_KEY is required: 32 random bytes in base64, e.g. `openssl rand -base64 32`');
  }
  return EncryptionCodec.fromBase64(keyId, keyBase64);
}
