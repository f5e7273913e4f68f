import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../src/temporal/encryption-codec';

const key = (fill: number) => Buffer.alloc(32, fill);

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec({ id: 'k2', key: key(2) }, [{ id: 'k1', key: key(1) }]);
  const payload = defaultPayloadConverter.toPayload({ hashedEmail: 'abc', city: 'seattle' });

  test('round-trips a payload and hides its content', async () => {
    const [encrypted] = await codec.encode([payload]);
    assert.ok(encrypted);
    assert.equal(Buffer.from(encrypted.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(encrypted.data!).toString('latin1').includes('seattle'));
    const [decoded] = await codec.decode([encrypted]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { hashedEmail: 'abc', city: 'seattle' });
  });

  test('decodes payloads written with an older key', async () => {
    const old = new EncryptionCodec({ id: 'k1', key: key(1) });
    const [encrypted] = await old.encode([payload]);
    const [decoded] = await codec.decode([encrypted!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { hashedEmail: 'abc', city: 'seattle' });
  });

  test('rejects tampered data and unknown keys', async () => {
    const [encrypted] = await codec.encode([payload]);
    const tampered = { ...encrypted!, data: Buffer.from(encrypted!.data!).fill(0, 20, 21) };
    await assert.rejects(codec.decode([tampered]));
    const stranger = new EncryptionCodec({ id: 'k9', key: key(9) });
    await assert.rejects(stranger.decode([encrypted!]), /no payload key with id "k2"/);
  });

  test('passes through payloads it did not encrypt', async () => {
    const [same] = await codec.decode([payload]);
    assert.equal(same, payload);
  });

  test('refuses keys that are not 32 bytes', () => {
    assert.throws(() => EncryptionCodec.fromBase64('short', Buffer.alloc(16).toString('base64')), /32 bytes/);
  });
});
