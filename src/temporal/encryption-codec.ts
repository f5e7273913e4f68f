// AES-256-GCM payload codec: workflow inputs, results and failures are stored encrypted in Temporal's
// history; the Web UI reads them through the codec endpoints of the api (see src/api/codec-routes.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();

/** A payload this codec cannot open: an unknown key id, or data that is not what this codec wrote. */
export class PayloadDecodeError extends Error {
  override name = 'PayloadDecodeError';
}
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;

  /**
   * @param current the key id and 32-byte key that encrypt new payloads
   * @param previous older keys still accepted for decoding, by id (for key rotation)
   */
  constructor(
    private readonly current: { id: string; key: Buffer },
    previous: { id: string; key: Buffer }[] = [],
  ) {
    for (const k of [current, ...previous]) {
      if (k.key.length !== 32) throw new Error(`payload key ${k.id} must be 32 bytes, got ${k.key.length}`);
    }
    this.keys = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  /** Reads a base64 key as configured in RELAY_PAYLOAD_KEY. */
  static fromBase64(id: string, base64: string): EncryptionCodec {
    return new EncryptionCodec({ id, key: Buffer.from(base64, 'base64') });
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- PayloadCodec is async; AES-GCM here is not
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: encoder.encode(ENCODING), [KEY_ID]: encoder.encode(this.current.id) },
        data: new Uint8Array(data),
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- see encode
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.keys.get(keyId);
      if (!key) throw new PayloadDecodeError(`no payload key with id "${keyId}" is configured`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecodeError('the payload is too short to be encrypted');
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecodeError(`the payload does not decrypt under key "${keyId}" (altered, or another key)`);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
