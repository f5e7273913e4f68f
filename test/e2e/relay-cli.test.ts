// The `relay` binary as a user runs it: a real child process, stdin in, stdout out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const relay = join(__dirname, '..', '..', 'bin', 'relay.js');
const run = (args: string[], input: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [relay, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env } });

describe('relay identifiers hash', () => {
  test('writes one JSON line per input line, errors naming the line and field', () => {
    const input = [
      JSON.stringify({ email: 'foo@bar.com', phone: '+1 000-000-0001' }),
      '',
      JSON.stringify({
        firstName: 'jane',
        lastName: 'doe',
        streetAddress: '1600 amphitheatre pkwy',
        countryCode: 'US',
      }),
      '{"email": 42}',
      JSON.stringify({ phone: '650 253 0000' }),
    ].join('\n');
    const r = run(['identifiers', 'hash'], input, { RELAY_DEFAULT_PHONE_REGION: 'US' });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 4);
    assert.deepEqual(lines[0], {
      userIdentifiers: [
        { hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' },
        { hashedPhoneNumber: '1fb1f420856780a29719b994c8764b81770d79f97e2e1861ba938a7a5a15dfb9' },
      ],
      dropped: [],
    });
    assert.deepEqual(lines[1], {
      userIdentifiers: [
        {
          addressInfo: {
            hashedFirstName: '81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2',
            hashedLastName: '799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f',
            hashedStreetAddress: '22b7e2d69b91e0ef4a88e81a73d897b92fd9c93ccfbe0a860f77db16c26f662e',
            countryCode: 'US',
          },
        },
      ],
      dropped: [],
    });
    assert.match(String(lines[2]?.error), /^line 4: .*email/);
    assert.equal((lines[3]?.userIdentifiers as unknown[]).length, 1, 'the default region reads the national number');
    assert.equal(r.status, 1, 'a malformed line makes the exit code non-zero');
  });

  test('a bad setting is named, not echoed', () => {
    const r = run(['identifiers', 'hash'], '', { RELAY_DEFAULT_PHONE_REGION: 'Atlantis' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /RELAY_DEFAULT_PHONE_REGION/);
  });

  test('an unknown command prints the usage', () => {
    const r = run(['frobnicate'], '');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: relay <command>/);
  });
});
