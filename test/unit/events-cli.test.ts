import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runEventsList, runEventsValidate } from '../../src/cli/events';
import { MANAGER_FORM_WARNING } from '../../src/domain/conversion-events/definitions';

const EXAMPLE = join(__dirname, '../../examples/conversion-events.yaml');

function sink() {
  const chunks: string[] = [];
  const stream = {
    write: (chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => chunks.join('') };
}

function list(path: string) {
  const out = sink();
  const code = runEventsList(path, out.stream);
  return { code, out: out.text() };
}

function validate(path: string) {
  const out = sink();
  const err = sink();
  const code = runEventsValidate(path, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

const dir = mkdtempSync(join(tmpdir(), 'events-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const BROKEN = `hubspot:
  tier: professional
definitions:
  - id: lead
    name: Lead
    createdAt: '2026-01-15T09:00:00'
    customerId: '123-456-7890'
    trigger: { type: lifecycle_stage, stage: lead, conversionAction: 'customers/9999999999/conversionActions/1' }
    value: { type: deal_amount, currency: EUR }
  - id: form-a
    name: Form A
    createdAt: '2026-01-15T09:00:00Z'
    customerId: '123-456-7890'
    managerAccount: true
    trigger: { type: form_submission, formId: f-1, conversionAction: '5' }
    value: { type: custom, amount: 1, currency: EUR }
  - id: form-b
    name: Form B
    createdAt: '2026-01-15T09:00:00Z'
    customerId: '123-456-7890'
    trigger: { type: form_submission, formId: f-1, conversionAction: '6' }
    value: { type: custom, amount: 1, currency: EUR }
`;

describe('relay events list', () => {
  test('the example file: one row per definition with every column, and the MCC note', () => {
    const { code, out } = list(EXAMPLE);
    assert.equal(code, 0);
    const lines = out.split('\n');
    const header = lines[0] ?? '';
    for (const column of [
      'ID',
      'NAME',
      'TRIGGER',
      'STAGE / FORM',
      'CUSTOMER',
      'CONVERSION ACTION',
      'VALUE',
      'SHARED FIELDS',
      'CONTACTS',
      'STATUS',
    ]) {
      assert.ok(header.includes(column), `header has ${column}`);
    }
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? assert.fail(`no row for ${id}`);
    assert.match(
      row('lead'),
      /lifecycle stage +lead +123-456-7890 via 111-222-3333 +6512349871 +10 EUR +email, phone +all +active/,
    );
    assert.match(row('mql'), /marketingqualifiedlead .* 6512349872 +50 EUR +email +all +active/);
    assert.match(row('customer'), /deal amount \(default 1500 EUR\) +email, phone +with click id +active/);
    assert.match(row('demo-request-form'), /form submission +5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57 .* active$/);
    assert.match(row('newsletter-form-mcc'), /111-222-3333 .* never-uploads \(manager account\)$/);
    assert.ok(out.includes(`newsletter-form-mcc: ${MANAGER_FORM_WARNING}`));
    assert.match(out, /1 warning: see relay events validate/);
    // Columns line up: every row starts its status where the header does.
    const statusAt = header.indexOf('STATUS');
    for (const id of ['lead', 'mql', 'customer', 'demo-request-form', 'newsletter-form-mcc']) {
      assert.match(row(id).slice(statusAt), /^(active|never-uploads)/);
    }
  });

  test('a file with errors of form is not listed', () => {
    const { code, out } = list(write('broken.yaml', BROKEN));
    assert.equal(code, 1);
    assert.match(out, /cannot list the conversion events, 4 errors:/);
    assert.match(out, /definitions\[0\]\.createdAt/);
    assert.doesNotMatch(out, /^ID /m);
  });

  test('a well-formed file breaking a rule is listed, with exit code 1', () => {
    const path = write(
      'dups.json',
      JSON.stringify({
        hubspot: { tier: 'enterprise' },
        definitions: [1, 2].map((n) => ({
          id: 'same',
          name: `Same ${n}`,
          createdAt: '2026-01-15T09:00:00Z',
          customerId: '1234567890',
          trigger: { type: 'lifecycle_stage', stage: 'lead', conversionAction: String(n) },
          value: { type: 'custom', amount: 1, currency: 'EUR' },
        })),
      }),
    );
    const { code, out } = list(path);
    assert.equal(code, 1);
    assert.match(out, /Same 1/);
    assert.match(out, /Same 2/);
    assert.match(out, /1 error: see relay events validate/);
  });

  test('an unreadable file', () => {
    const { code, out } = list(join(dir, 'missing.yaml'));
    assert.equal(code, 1);
    assert.match(out, /cannot read the conversion events file .*missing\.yaml: no such file/);
  });
});

describe('relay events validate', () => {
  test('the example file is valid: its one warning is printed, exit code 0', () => {
    const { code, out, err } = validate(EXAMPLE);
    assert.equal(code, 0);
    assert.equal(err, '');
    // The line of the manager definition's customerId, found in the file so that comments may change above it.
    const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
    const defLine = lines.findIndex((l) => l.includes('id: newsletter-form-mcc'));
    const line = lines.findIndex((l, i) => i > defLine && l.trim().startsWith('customerId:')) + 1;
    assert.ok(defLine >= 0 && line > defLine);
    assert.equal(
      out,
      `warning definitions[4].customerId (line ${line}, definition "newsletter-form-mcc"): ${MANAGER_FORM_WARNING}\n` +
        `${EXAMPLE}: valid (5 conversion events, 0 errors, 1 warning)\n`,
    );
  });

  test('a broken file: every problem with its path, line and severity, errors first, exit code 1', () => {
    const path = write('broken.yaml', BROKEN);
    const { code, out, err } = validate(path);
    assert.equal(code, 1);
    assert.equal(err, '');
    const lines = out.trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(0, -1).map((l) => l.replace(/\): .*/, ')')),
      [
        'error   definitions[0].createdAt (line 6, definition "lead")',
        'error   definitions[0].trigger.conversionAction (line 8, definition "lead")',
        'error   definitions[0].value.default (line 9, definition "lead")',
        'error   definitions[2].trigger.formId (line 21, definition "form-b")',
        'warning definitions[1].customerId (line 13, definition "form-a")',
      ],
    );
    assert.match(lines[1] ?? '', /belongs to customer 9999999999/);
    assert.match(lines[2] ?? '', /is required/);
    assert.match(lines[3] ?? '', /each HubSpot form can trigger only one conversion event/);
    assert.match(lines[4] ?? '', /never uploads/);
    assert.equal(lines.at(-1), `${path}: invalid (4 errors, 1 warning)`);
  });

  test('warnings alone keep exit code 0', () => {
    const path = write(
      'warn.json',
      JSON.stringify({
        hubspot: { tier: 'professional' },
        definitions: [
          {
            id: 'off',
            name: 'Off',
            enabled: false,
            createdAt: '2026-01-15T09:00:00Z',
            customerId: '1234567890',
            trigger: { type: 'lifecycle_stage', stage: 'lead', conversionAction: '1' },
            value: { type: 'custom', amount: 1, currency: 'EUR' },
          },
        ],
      }),
    );
    const { code, out } = validate(path);
    assert.equal(code, 0);
    assert.match(out, /^warning definitions\[0\]\.enabled .*switched off/m);
    assert.match(out, /valid \(1 conversion event, 0 errors, 1 warning\)/);
  });

  test('malformed YAML', () => {
    const { code, out } = validate(write('syntax.yaml', 'hubspot:\n  tier: "professional\n'));
    assert.equal(code, 1);
    assert.match(out, /^error {3}\(file\) \(line \d+\): not valid YAML/m);
  });

  test('an unreadable file goes to stderr with exit code 1', () => {
    const { code, out, err } = validate(join(dir, 'missing.yaml'));
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(err, /cannot read the conversion events file .*missing\.yaml: no such file/);
  });
});
