// Shared normalization vectors taken from Google's documentation. The fixture is a verbatim copy of the
// cross-project file so this suite still runs where the shared tree is not checked out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { normalizeIdentifier, PLAIN_IDENTITY_FIELDS, sha256Hex } from '../../src/domain/identifiers';

interface Vector {
  kind: string;
  input: string;
  normalized: string;
  sha256: string;
  source: string;
}

const repoRoot = resolve(__dirname, '..', '..');
const fixturePath = join(repoRoot, 'test', 'fixtures', 'identifiers-vectors.json');
const sharedPath = resolve(repoRoot, '..', 'shared', 'vectors', 'identifiers.json');

const vectors = JSON.parse(readFileSync(fixturePath, 'utf8')) as Vector[];

function isKind(kind: string): kind is (typeof PLAIN_IDENTITY_FIELDS)[number] {
  return (PLAIN_IDENTITY_FIELDS as readonly string[]).includes(kind);
}

test('the fixture holds vectors', () => {
  assert.ok(vectors.length > 0);
});

for (const v of vectors) {
  test(`${v.kind} ${JSON.stringify(v.input)} → ${JSON.stringify(v.normalized)} (${v.source})`, () => {
    assert.ok(isKind(v.kind), `unknown kind ${v.kind}`);
    const result = normalizeIdentifier(v.kind, v.input);
    assert.ok(result.ok, `dropped: ${JSON.stringify(result)}`);
    assert.equal(result.value, v.normalized);
    assert.equal(sha256Hex(result.value), v.sha256);
  });
}

test('the committed fixture matches the shared vectors', { skip: !existsSync(sharedPath) && 'no shared tree' }, () => {
  assert.deepEqual(vectors, JSON.parse(readFileSync(sharedPath, 'utf8')));
});
