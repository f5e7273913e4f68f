import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runIdentifiersHash } from '../../src/cli/identifiers-hash';
import { sha256Hex, type HashIdentityOptions } from '../../src/domain/identifiers';

async function run(text: string, opts: HashIdentityOptions = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  input.end(text);
  const summary = await runIdentifiersHash(input, output, opts);
  const raw = Buffer.concat(chunks).toString('utf8');
  assert.ok(raw === '' || raw.endsWith('\n'));
  const lines = raw.split('\n').filter((l) => l !== '');
  return { summary, raw, out: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('good lines become CM360 userIdentifiers with their dropped fields', async () => {
  const { summary, out } = await run(
    [
      JSON.stringify({ email: ' Jane.Doe@gmail.com ', phone: '800-555-0100', lastName: 'Doe', countryCode: 'us' }),
      JSON.stringify({ phone: '800-555-0100' }),
      JSON.stringify({}),
    ].join('\n'),
  );
  assert.deepEqual(summary, { lines: 3, errors: 0 });
  assert.deepEqual(out, [
    {
      userIdentifiers: [
        { hashedEmail: sha256Hex('janedoe@gmail.com') },
        { hashedPhoneNumber: sha256Hex('+18005550100') },
        { addressInfo: { hashedLastName: sha256Hex('doe'), countryCode: 'US' } },
      ],
      dropped: [],
    },
    {
      userIdentifiers: [],
      dropped: [{ field: 'phone', reason: 'phone number has no country code and no region is configured' }],
    },
    { userIdentifiers: [], dropped: [] },
  ]);
});

test('the default region applies to phones without +country', async () => {
  const { out } = await run(`${JSON.stringify({ phone: '0113 496 0987' })}\n`, { defaultRegion: 'GB' });
  assert.deepEqual(out, [{ userIdentifiers: [{ hashedPhoneNumber: sha256Hex('+441134960987') }], dropped: [] }]);
});

test('malformed lines yield one error line each, naming the line and field but no value', async () => {
  const lines = [
    JSON.stringify({ email: 'ok@example.com' }),
    '',
    '{"email": "secret.person@example.com",',
    '   ',
    JSON.stringify({ email: 'secret.person@example.com', shoeSize: '44' }),
    JSON.stringify({ phone: 4915112345678 }),
    JSON.stringify(['secret.person@example.com']),
    'null',
    '"secret.person@example.com"',
    JSON.stringify({ firstName: 'Jane' }),
  ];
  const { summary, out, raw } = await run(`${lines.join('\r\n')}\r\n\n`);
  assert.deepEqual(summary, { lines: 8, errors: 6 });
  assert.equal(out.length, 8);
  assert.deepEqual(out[0], { userIdentifiers: [{ hashedEmail: sha256Hex('ok@example.com') }], dropped: [] });
  assert.deepEqual(out.slice(1, 7), [
    { error: 'line 3: not valid JSON' },
    { error: 'line 5: unknown field "shoeSize"' },
    { error: 'line 6: field "phone" must be a string' },
    { error: 'line 7: expected a JSON object' },
    { error: 'line 8: expected a JSON object' },
    { error: 'line 9: expected a JSON object' },
  ]);
  assert.deepEqual(out[7], {
    userIdentifiers: [{ addressInfo: { hashedFirstName: sha256Hex('jane') } }],
    dropped: [],
  });
  assert.ok(!raw.includes('secret'));
  assert.ok(!raw.includes('4915112345678'));
});

test('several problems on one line are all named', async () => {
  const { out } = await run(JSON.stringify({ email: null, city: 1, a: 'x', b: 'y' }));
  assert.equal(out.length, 1);
  const error = String(out[0]?.error);
  assert.match(error, /^line 1: /);
  assert.match(error, /"email"/);
  assert.match(error, /"city"/);
  assert.match(error, /unknown fields "a", "b"/);
});

test('empty input writes nothing', async () => {
  const { summary, raw } = await run('\n  \n');
  assert.deepEqual(summary, { lines: 0, errors: 0 });
  assert.equal(raw, '');
});
