import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  loadConversionEventsConfig,
  loadValidConversionEventsConfig,
  parseConversionEventsConfig,
} from '../../src/config/conversion-events';
import { ConfigError } from '../../src/config/env';
import {
  conversionEventsConfigSchema,
  definitionStatus,
  formDefinitionFor,
  lifecycleDefinitionsForStage,
  MANAGER_FORM_WARNING,
  validateDefinitions,
  type ConversionEventsConfig,
  type DefinitionProblem,
} from '../../src/domain/conversion-events/definitions';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const CREATED = '2026-01-15T09:00:00+01:00';

type Raw = Record<string, unknown>;

const lifecycle = (over: Raw = {}, trigger: Raw = {}): Raw => ({
  id: 'lead',
  name: 'Lead',
  createdAt: CREATED,
  customerId: '123-456-7890',
  trigger: { type: 'lifecycle_stage', stage: 'lead', conversionAction: '111', ...trigger },
  value: { type: 'custom', amount: 10, currency: 'EUR' },
  ...over,
});

const form = (over: Raw = {}, trigger: Raw = {}): Raw => ({
  id: 'demo-form',
  name: 'Demo form',
  createdAt: CREATED,
  customerId: '1234567890',
  trigger: { type: 'form_submission', formId: 'f-1', conversionAction: '222', ...trigger },
  value: { type: 'custom', amount: 5, currency: 'EUR' },
  ...over,
});

const file = (definitions: Raw[], extra: Raw = {}): Raw => ({
  hubspot: { tier: 'professional' },
  definitions,
  ...extra,
});

const parse = (raw: Raw): ConversionEventsConfig => conversionEventsConfigSchema.parse(raw);

/** Loads as the loader does (JSON text), so schema and rule problems come back together; lines are tested below. */
function check(raw: Raw) {
  const { config, problems } = parseConversionEventsConfig(JSON.stringify(raw), 'json', { now: NOW });
  return { config, problems: problems.map(({ line: _line, ...p }) => p) };
}

const problemsOf = (raw: Raw) => check(raw).problems;
const errorsOf = (raw: Raw) => problemsOf(raw).filter((p) => p.severity === 'error');
const warningsOf = (raw: Raw) => problemsOf(raw).filter((p) => p.severity === 'warning');
const at = (problems: DefinitionProblem[], path: string) => problems.filter((p) => p.path === path);

function onlyError(raw: Raw, path: string, message?: RegExp): DefinitionProblem {
  const errors = errorsOf(raw);
  assert.deepEqual(
    errors.map((e) => e.path),
    [path],
    `expected one error at ${path}, got ${JSON.stringify(errors)}`,
  );
  const error = errors[0]!;
  if (message) assert.match(error.message, message);
  return error;
}

const lifecycles = (n: number, over: Raw = {}): Raw[] =>
  Array.from({ length: n }, (_, i) => lifecycle({ id: `stage-${i}`, ...over }, { conversionAction: String(1000 + i) }));

describe('schema normalization', () => {
  test('fills in the defaults and normalizes ids', () => {
    const config = parse(file([lifecycle()]));
    assert.deepEqual(config.definitions[0], {
      id: 'lead',
      name: 'Lead',
      enabled: true,
      createdAt: CREATED,
      customerId: '1234567890',
      trigger: {
        type: 'lifecycle_stage',
        stage: 'lead',
        conversionAction: 'customers/1234567890/conversionActions/111',
      },
      value: { type: 'custom', amount: 10, currency: 'EUR' },
      sharedFields: ['email'],
      contacts: 'all',
      primary: true,
    });
    assert.deepEqual(problemsOf(file([lifecycle()])), []);
  });

  test('customer ids: dashed, plain digits or a YAML number become 10 digits', () => {
    for (const customerId of ['123-456-7890', '1234567890', 1234567890, ' 123-456-7890 ']) {
      assert.equal(parse(file([lifecycle({ customerId })])).definitions[0]?.customerId, '1234567890');
    }
    const def = parse(file([lifecycle({ loginCustomerId: '111-222-3333' })])).definitions[0];
    assert.equal(def?.loginCustomerId, '1112223333');
  });

  test('malformed customer ids are errors at their path', () => {
    for (const customerId of ['123-4567-890', '12345', '12345678901', 'abc', '123 456 7890']) {
      onlyError(file([lifecycle({ customerId })]), 'definitions[0].customerId', /10 digits/);
    }
    onlyError(file([lifecycle({ loginCustomerId: '1-2-3' })]), 'definitions[0].loginCustomerId', /10 digits/);
  });

  test('a conversion action id is completed into a resource name under the customer', () => {
    const byString = parse(file([lifecycle({}, { conversionAction: '987654321' })])).definitions[0];
    assert.equal(byString?.trigger.conversionAction, 'customers/1234567890/conversionActions/987654321');
    const byNumber = parse(file([form({}, { conversionAction: 987654321 })])).definitions[0];
    assert.equal(byNumber?.trigger.conversionAction, 'customers/1234567890/conversionActions/987654321');
  });

  test('a resource name of the same customer is kept; of another customer it is an error', () => {
    const name = 'customers/1234567890/conversionActions/42';
    assert.equal(
      parse(file([lifecycle({}, { conversionAction: name })])).definitions[0]?.trigger.conversionAction,
      name,
    );
    const error = onlyError(
      file([lifecycle({}, { conversionAction: 'customers/9999999999/conversionActions/42' })]),
      'definitions[0].trigger.conversionAction',
      /belongs to customer 9999999999, not to this definition's customerId 1234567890/,
    );
    assert.equal(error.definitionId, 'lead');
  });

  test('conversion actions that are neither an id nor a resource name are errors', () => {
    for (const conversionAction of ['abc', 'conversionActions/42', 'customers/123-456-7890/conversionActions/42', '']) {
      onlyError(file([lifecycle({}, { conversionAction })]), 'definitions[0].trigger.conversionAction');
    }
    onlyError(
      file([lifecycle({}, { conversionAction: 2 ** 60 })]),
      'definitions[0].trigger.conversionAction',
      /write it in quotes/,
    );
  });

  test('deal_amount needs a default above 0; custom amounts may be 0', () => {
    const deal = (value: Raw) => file([lifecycle({ value: { type: 'deal_amount', currency: 'EUR', ...value } })]);
    assert.deepEqual(errorsOf(deal({ default: 100 })), []);
    onlyError(deal({}), 'definitions[0].value.default', /required/);
    onlyError(deal({ default: 0 }), 'definitions[0].value.default', /greater than 0/);
    onlyError(deal({ default: -5 }), 'definitions[0].value.default');
    const custom = (amount: unknown) => file([lifecycle({ value: { type: 'custom', amount, currency: 'EUR' } })]);
    assert.deepEqual(errorsOf(custom(0)), []);
    onlyError(custom(-1), 'definitions[0].value.amount', /negative/);
    onlyError(custom('10'), 'definitions[0].value.amount', /number/);
    onlyError(file([lifecycle({ value: { type: 'fixed', amount: 1, currency: 'EUR' } })]), 'definitions[0].value.type');
  });

  test('currencies are ISO 4217 codes, upper-cased', () => {
    const withCurrency = (currency: string) => file([lifecycle({ value: { type: 'custom', amount: 1, currency } })]);
    assert.equal(parse(withCurrency('nok')).definitions[0]?.value.currency, 'NOK');
    for (const currency of ['EURO', 'E', 'ABC', '']) {
      onlyError(withCurrency(currency), 'definitions[0].value.currency', /ISO 4217/);
    }
  });

  test('createdAt must carry a time zone', () => {
    assert.deepEqual(errorsOf(file([lifecycle({ createdAt: '2026-01-15T08:00:00Z' })])), []);
    assert.deepEqual(errorsOf(file([lifecycle({ createdAt: '2026-01-15T08:00:00.250-05:00' })])), []);
    for (const createdAt of ['2026-01-15T08:00:00', '2026-01-15', 'yesterday']) {
      onlyError(file([lifecycle({ createdAt })]), 'definitions[0].createdAt', /time zone/);
    }
    onlyError(file([lifecycle({ createdAt: undefined })]), 'definitions[0].createdAt', /required/);
  });

  test('ids are slugs', () => {
    assert.deepEqual(errorsOf(file([lifecycle({ id: 'mql-to-google-2' })])), []);
    for (const id of ['Lead', 'lead stage', 'lead--x', '-lead', 'lead_x', 'x'.repeat(65)]) {
      onlyError(file([lifecycle({ id })]), 'definitions[0].id');
    }
  });

  test('shared fields: a non-empty subset, duplicates folded', () => {
    const def = parse(file([form({ sharedFields: ['email', 'phone', 'email'] })])).definitions[0];
    assert.deepEqual(def?.sharedFields, ['email', 'phone']);
    onlyError(file([form({ sharedFields: [] })]), 'definitions[0].sharedFields', /at least one/);
    onlyError(file([form({ sharedFields: ['email', 'fax'] })]), 'definitions[0].sharedFields[1]');
  });

  test('consent values read by YAML as booleans or numbers become strings', () => {
    const def = parse(file([lifecycle({ consent: { property: 'ads_consent', value: true } })])).definitions[0];
    assert.deepEqual(def?.consent, { property: 'ads_consent', value: 'true' });
    onlyError(file([lifecycle({ consent: { property: 'ads_consent' } })]), 'definitions[0].consent.value', /required/);
    onlyError(file([lifecycle({ consent: { property: ' ', value: 'yes' } })]), 'definitions[0].consent.property');
  });

  test('contacts and primary take only their documented values', () => {
    const def = parse(file([lifecycle({ contacts: 'with_click_id', primary: false, enabled: false })])).definitions[0];
    assert.equal(def?.contacts, 'with_click_id');
    assert.equal(def?.primary, false);
    assert.equal(def?.enabled, false);
    onlyError(file([lifecycle({ contacts: 'clicked' })]), 'definitions[0].contacts');
  });

  test('unknown fields are named, not ignored', () => {
    const error = onlyError(
      file([lifecycle({ sharedField: ['email'] })]),
      'definitions[0].sharedField',
      /unknown field/,
    );
    assert.equal(error.definitionId, 'lead');
    onlyError({ ...file([lifecycle()]), hubspott: {} }, 'hubspott', /unknown field/);
  });

  test('an unknown trigger type is an error at trigger.type', () => {
    onlyError(
      file([lifecycle({ trigger: { type: 'page_view', conversionAction: '1' } })]),
      'definitions[0].trigger.type',
      /"lifecycle_stage" or "form_submission"/,
    );
  });

  test('the HubSpot tier is required and checked', () => {
    onlyError({ definitions: [] }, 'hubspot', /required/);
    onlyError({ hubspot: { tier: 'starter' }, definitions: [] }, 'hubspot.tier', /professional/);
    assert.deepEqual(problemsOf({ hubspot: { tier: 'enterprise' }, definitions: [] }), []);
  });

  test('click id properties for gbraid and wbraid are HubSpot property names', () => {
    const ok = { tier: 'professional', clickIdProperties: { gbraid: 'site_gbraid', wbraid: 'site_wbraid' } };
    assert.deepEqual(parse({ hubspot: ok, definitions: [] }).hubspot.clickIdProperties, ok.clickIdProperties);
    onlyError(
      { hubspot: { tier: 'professional', clickIdProperties: { gbraid: 'site gbraid' } }, definitions: [] },
      'hubspot.clickIdProperties.gbraid',
      /internal property name/,
    );
    onlyError(
      { hubspot: { tier: 'professional', clickIdProperties: { msclkid: 'x' } }, definitions: [] },
      'hubspot.clickIdProperties.msclkid',
      /unknown field/,
    );
  });

  test('definitions inherit loginCustomerId and the manager flag from googleAds.accounts', () => {
    const accounts = [
      { customerId: '123-456-7890', loginCustomerId: '111-222-3333' },
      { customerId: '1112223333', manager: true },
    ];
    const config = parse(
      file([lifecycle(), form({ customerId: '111-222-3333' }, { conversionAction: '7' })], { googleAds: { accounts } }),
    );
    assert.equal(config.definitions[0]?.loginCustomerId, '1112223333');
    assert.equal(config.definitions[0]?.managerAccount, undefined);
    assert.equal(config.definitions[1]?.managerAccount, true);
    assert.equal(config.definitions[1]?.trigger.conversionAction, 'customers/1112223333/conversionActions/7');
    assert.deepEqual(config.googleAds?.accounts?.[0], { customerId: '1234567890', loginCustomerId: '1112223333' });
  });

  test('a definition contradicting its account is an error', () => {
    const googleAds = { accounts: [{ customerId: '1234567890', loginCustomerId: '1112223333', manager: true }] };
    onlyError(file([form({ managerAccount: false })], { googleAds }), 'definitions[0].managerAccount', /googleAds/);
    onlyError(
      file([form({ loginCustomerId: '4445556666' })], { googleAds }),
      'definitions[0].loginCustomerId',
      /4445556666 here but 1112223333/,
    );
  });
});

describe('validation rules', () => {
  test('duplicate ids are errors on the later definition', () => {
    const error = onlyError(
      file([lifecycle(), form({ id: 'lead' })]),
      'definitions[1].id',
      /already used by definitions\[0\]/,
    );
    assert.equal(error.definitionId, 'lead');
  });

  test('professional allows 50 lifecycle-stage definitions, not 51', () => {
    assert.deepEqual(errorsOf(file(lifecycles(50))), []);
    const error = onlyError(file(lifecycles(51)), 'definitions[50]', /51 lifecycle-stage definitions.*at most 50/);
    assert.equal(error.definitionId, 'stage-50');
  });

  test('enterprise allows 100, not 101', () => {
    const enterprise = (n: number) => ({ ...file(lifecycles(n)), hubspot: { tier: 'enterprise' } });
    assert.deepEqual(errorsOf(enterprise(51)), []);
    assert.deepEqual(errorsOf(enterprise(100)), []);
    onlyError(enterprise(101), 'definitions[100]', /101 lifecycle-stage definitions.*enterprise allows at most 100/);
  });

  test('switched-off lifecycle definitions count toward the limit; form definitions do not', () => {
    const disabled = lifecycles(51, { enabled: false });
    onlyError(file(disabled), 'definitions[50]', /at most 50/);
    const withForms = [...lifecycles(50), form({ id: 'f1' }), form({ id: 'f2' }, { formId: 'f-2' })];
    assert.deepEqual(errorsOf(file(withForms)), []);
  });

  test('a form can be the trigger of one definition only', () => {
    const raw = file([form(), form({ id: 'second' }, { formId: ' F-1 ' }), form({ id: 'third' }, { formId: 'f-3' })]);
    const error = onlyError(raw, 'definitions[1].trigger.formId', /already the trigger of "demo-form"/);
    assert.equal(error.definitionId, 'second');
    // Switched off, it still holds the form: HubSpot does not let a second event take it.
    onlyError(file([form({ enabled: false }), form({ id: 'second' })]), 'definitions[1].trigger.formId');
  });

  test('a form definition on a manager account is accepted with a warning', () => {
    for (const raw of [
      file([form({ managerAccount: true })]),
      file([form()], { googleAds: { accounts: [{ customerId: '1234567890', manager: true }] } }),
    ]) {
      const { config, problems } = check(raw);
      assert.ok(config);
      assert.deepEqual(problems, [
        {
          definitionId: 'demo-form',
          path: 'definitions[0].customerId',
          message: MANAGER_FORM_WARNING,
          severity: 'warning',
        },
      ]);
      assert.match(MANAGER_FORM_WARNING, /never uploads/);
    }
    assert.deepEqual(problemsOf(file([lifecycle({ managerAccount: true })])), []);
  });

  test('a switched-off definition is a warning', () => {
    const [warning, ...rest] = problemsOf(file([lifecycle({ enabled: false })]));
    assert.deepEqual(rest, []);
    assert.equal(warning?.severity, 'warning');
    assert.equal(warning?.path, 'definitions[0].enabled');
  });

  test('a form definition names its order id field and poll interval; a lifecycle one may not', () => {
    const ok = file([
      form({ orderIdField: 'gtag_transaction_id', poll: { every: '2m' } }),
      form({ id: 'b', trigger: { type: 'form_submission', formId: 'other-form', conversionAction: '1' }, poll: false }),
    ]);
    assert.deepEqual(errorsOf(ok), []);
    assert.match(
      at(errorsOf(file([form({ poll: { every: '30s' } })])), 'definitions[0].poll.every')[0]!.message,
      /at least 1m/,
    );
    assert.match(
      at(errorsOf(file([form({ orderIdField: 'has space' })])), 'definitions[0].orderIdField')[0]!.message,
      /form field name/,
    );
    assert.match(
      at(errorsOf(file([lifecycle({ orderIdField: 'x' })])), 'definitions[0].orderIdField')[0]!.message,
      /only a form_submission/,
    );
    assert.match(
      at(errorsOf(file([lifecycle({ poll: false })])), 'definitions[0].poll')[0]!.message,
      /only a form_submission/,
    );
  });

  test('a deal_amount value on a form trigger is a warning', () => {
    const raw = file([form({ value: { type: 'deal_amount', default: 30, currency: 'EUR' } })]);
    assert.deepEqual(errorsOf(raw), []);
    const warnings = at(warningsOf(raw), 'definitions[0].value.type');
    assert.equal(warnings.length, 1);
    // As Flow B sends it: the enhancement carries no restatement for deal_amount (see form-enhancement tests).
    assert.match(warnings[0]!.message, /no deal: its enhancement restates no value \(the default 30 EUR is not sent\)/);
  });

  test('a createdAt in the future is a warning', () => {
    assert.match(
      at(warningsOf(file([lifecycle({ createdAt: '2062-01-01T00:00:00Z' })])), 'definitions[0].createdAt')[0]!.message,
      /future/,
    );
  });

  test('a stage that is neither a default stage nor a numeric custom id is a warning', () => {
    assert.deepEqual(problemsOf(file([lifecycle({}, { stage: 'MarketingQualifiedLead' })])), []);
    assert.deepEqual(problemsOf(file([lifecycle({}, { stage: '1081223431' })])), []);
    const warnings = warningsOf(file([lifecycle({}, { stage: 'Marketing Qualified Lead' })]));
    assert.equal(at(warnings, 'definitions[0].trigger.stage').length, 1);
  });

  test('two enabled definitions uploading one stage to one action are a warning', () => {
    const twice = file([lifecycle(), lifecycle({ id: 'lead-again' })]);
    assert.match(at(warningsOf(twice), 'definitions[1].trigger')[0]!.message, /counted twice/);
    assert.deepEqual(problemsOf(file([lifecycle(), lifecycle({ id: 'lead-2' }, { conversionAction: '112' })])), []);
  });

  test('name and address fields on a lifecycle definition are a warning: click conversions do not take them', () => {
    const raw = file([lifecycle({ sharedFields: ['email', 'firstName', 'address'] })]);
    assert.match(at(warningsOf(raw), 'definitions[0].sharedFields')[0]!.message, /firstName, address are not sent/);
    assert.deepEqual(problemsOf(file([form({ sharedFields: ['email', 'address'] })])), []);
  });

  test('an account described twice is an error', () => {
    const googleAds = { accounts: [{ customerId: '1234567890' }, { customerId: '123-456-7890', manager: true }] };
    onlyError(file([], { googleAds }), 'googleAds.accounts[1].customerId', /already described/);
  });

  test('validateDefinitions works on a parsed config directly', () => {
    const config = parse(file([lifecycle(), lifecycle()]));
    const problems = validateDefinitions(config, { now: NOW });
    assert.deepEqual(
      problems.filter((p) => p.severity === 'error').map((p) => p.path),
      ['definitions[1].id'],
    );
  });
});

describe('status and lookups', () => {
  const config = parse(
    file(
      [
        lifecycle(),
        lifecycle({ id: 'lead-off', enabled: false }, { conversionAction: '2' }),
        lifecycle({ id: 'lead-other' }, { conversionAction: '3' }),
        lifecycle({ id: 'customer' }, { stage: 'customer', conversionAction: '4' }),
        form(),
        form({ id: 'mcc-form', customerId: '1112223333' }, { formId: 'F-MCC' }),
        form({ id: 'off-form', enabled: false }, { formId: 'f-off' }),
      ],
      { googleAds: { accounts: [{ customerId: '1112223333', manager: true }] } },
    ),
  );

  test('definitionStatus', () => {
    const status = Object.fromEntries(config.definitions.map((d) => [d.id, definitionStatus(d, config)]));
    assert.deepEqual(status, {
      lead: 'active',
      'lead-off': 'disabled',
      'lead-other': 'active',
      customer: 'active',
      'demo-form': 'active',
      'mcc-form': 'never-uploads (manager account)',
      'off-form': 'disabled',
    });
  });

  test('lifecycleDefinitionsForStage returns every enabled definition of the stage', () => {
    assert.deepEqual(
      lifecycleDefinitionsForStage(config, 'lead').map((d) => d.id),
      ['lead', 'lead-other'],
    );
    assert.deepEqual(
      lifecycleDefinitionsForStage(config, 'CUSTOMER').map((d) => d.id),
      ['customer'],
    );
    assert.deepEqual(lifecycleDefinitionsForStage(config, 'opportunity'), []);
  });

  test('formDefinitionFor finds the form, switched off or not', () => {
    assert.equal(formDefinitionFor(config, 'f-1')?.id, 'demo-form');
    assert.equal(formDefinitionFor(config, 'f-mcc')?.managerAccount, true);
    assert.equal(formDefinitionFor(config, 'f-off')?.id, 'off-form');
    assert.equal(formDefinitionFor(config, 'f-unknown'), undefined);
  });
});

describe('loading the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conversion-events-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  const YAML = `hubspot:
  tier: professional
definitions:
  - id: lead
    name: Lead
    createdAt: 2026-01-15T09:00:00+01:00
    customerId: 123-456-7890
    trigger:
      type: lifecycle_stage
      stage: lead
      conversionAction: 111
    value: { type: custom, amount: 10, currency: eur }
    consent: { property: ads_consent, value: yes }
  - id: demo-form
    name: Demo form
    createdAt: '2026-01-15T09:00:00Z'
    customerId: 1234567890
    trigger: { type: form_submission, formId: f-1, conversionAction: customers/1234567890/conversionActions/222 }
    value: { type: custom, amount: 5, currency: EUR }
`;

  test('YAML: unquoted timestamps, numbers and "yes" are read as the schema means them', () => {
    const { config, problems } = loadConversionEventsConfig(write('events.yaml', YAML), { now: NOW });
    assert.deepEqual(problems, []);
    const [lead, demo] = config?.definitions ?? [];
    assert.equal(lead?.createdAt, '2026-01-15T09:00:00+01:00');
    assert.equal(lead?.customerId, '1234567890');
    assert.equal(lead?.trigger.conversionAction, 'customers/1234567890/conversionActions/111');
    assert.equal(lead?.value.currency, 'EUR');
    assert.deepEqual(lead?.consent, { property: 'ads_consent', value: 'yes' });
    assert.equal(demo?.customerId, '1234567890');
    assert.equal(demo?.trigger.type, 'form_submission');
  });

  test('.yml is YAML too', () => {
    assert.equal(loadConversionEventsConfig(write('events.yml', YAML), { now: NOW }).config?.definitions.length, 2);
  });

  test('JSON', () => {
    const path = write('events.json', JSON.stringify(file([lifecycle(), form()]), null, 2));
    const { config, problems } = loadConversionEventsConfig(path, { now: NOW });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      config?.definitions.map((d) => d.trigger.conversionAction),
      ['customers/1234567890/conversionActions/111', 'customers/1234567890/conversionActions/222'],
    );
  });

  test('problems name the path, the definition and the line', () => {
    const broken = YAML.replace(
      'conversionAction: 111',
      'conversionAction: customers/9999999999/conversionActions/1',
    ).replace('currency: EUR }', 'currency: EUR, amont: 3 }');
    const { config, problems } = loadConversionEventsConfig(write('broken.yaml', broken), { now: NOW });
    assert.equal(config, undefined);
    assert.deepEqual(
      problems.map(({ path, definitionId, line, severity }) => ({ path, definitionId, line, severity })),
      [
        { path: 'definitions[0].trigger.conversionAction', definitionId: 'lead', line: 11, severity: 'error' },
        { path: 'definitions[1].value.amont', definitionId: 'demo-form', line: 19, severity: 'error' },
      ],
    );
  });

  test('JSON problems get lines too', () => {
    const raw = file([lifecycle(), lifecycle({ id: 'x', customerId: 'nope' })]);
    const { problems } = loadConversionEventsConfig(write('lines.json', JSON.stringify(raw, null, 2)), { now: NOW });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, 'definitions[1].customerId');
    assert.equal(problems[0]?.definitionId, 'x');
    assert.ok((problems[0]?.line ?? 0) > 20);
  });

  test('rules across definitions still run while some definitions are malformed', () => {
    const raw = file([
      lifecycle({ id: 'broken', customerId: 'nope' }),
      form(),
      form({ id: 'demo-form' }, { formId: 'f-2' }),
      form({ id: 'other' }, { formId: 'f-1' }),
    ]);
    const { config, problems } = check(raw);
    assert.equal(config, undefined);
    assert.deepEqual(
      problems.filter((p) => p.severity === 'error').map((p) => p.path),
      ['definitions[0].customerId', 'definitions[2].id', 'definitions[3].trigger.formId'],
    );
  });

  test('malformed YAML or JSON is a problem, not an exception', () => {
    const yaml = loadConversionEventsConfig(write('bad.yaml', 'hubspot:\n  tier: [professional\ndefinitions: []\n'));
    assert.equal(yaml.config, undefined);
    assert.equal(yaml.problems[0]?.path, '(file)');
    assert.equal(yaml.problems[0]?.severity, 'error');
    assert.match(yaml.problems[0]?.message ?? '', /not valid YAML/);
    assert.equal(typeof yaml.problems[0]?.line, 'number');

    const dup = loadConversionEventsConfig(
      write('dup.yaml', 'hubspot: {tier: enterprise}\nhubspot: {tier: professional}\n'),
    );
    assert.match(dup.problems[0]?.message ?? '', /not valid YAML/);

    const json = loadConversionEventsConfig(write('bad.json', '{"hubspot": {'));
    assert.deepEqual(
      json.problems.map((p) => [p.path, p.severity]),
      [['(file)', 'error']],
    );
    assert.match(json.problems[0]?.message ?? '', /not valid JSON/);
  });

  test('an empty file, a non-object, or an unknown extension is a problem', () => {
    assert.match(loadConversionEventsConfig(write('empty.yaml', '# nothing\n')).problems[0]?.message ?? '', /empty/);
    assert.match(loadConversionEventsConfig(write('list.json', '[]')).problems[0]?.message ?? '', /expected an object/);
    assert.match(loadConversionEventsConfig(write('events.toml', 'x = 1')).problems[0]?.message ?? '', /\.yaml/);
  });

  test('an unreadable file throws a ConfigError naming it', () => {
    const missing = join(dir, 'missing.yaml');
    assert.throws(
      () => loadConversionEventsConfig(missing),
      (err: unknown) => err instanceof ConfigError && err.message.includes(missing) && /no such file/.test(err.message),
    );
    assert.throws(
      () => loadConversionEventsConfig(dir),
      (err: unknown) => err instanceof ConfigError && /directory/.test(err.message),
    );
  });

  test('loadValidConversionEventsConfig: the config with its warnings, or every error at once', () => {
    const ok = loadValidConversionEventsConfig(
      write('ok.json', JSON.stringify(file([form({ managerAccount: true })]))),
      {
        now: NOW,
      },
    );
    assert.equal(ok.config.definitions.length, 1);
    assert.deepEqual(
      ok.warnings.map((w) => w.message),
      [MANAGER_FORM_WARNING],
    );
    const bad = write('dups.json', JSON.stringify(file([lifecycle(), lifecycle(), form(), form({ id: 'x' })])));
    assert.throws(
      () => loadValidConversionEventsConfig(bad, { now: NOW }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes('definitions[1].id') &&
        err.message.includes('definitions[3].trigger.formId'),
    );
  });

  test('the example file loads with only the manager-account warning', () => {
    const { config, problems } = loadConversionEventsConfig(join(__dirname, '../../examples/conversion-events.yaml'), {
      now: NOW,
    });
    assert.deepEqual(
      config?.definitions.map((d) => [d.id, d.trigger.type]),
      [
        ['lead', 'lifecycle_stage'],
        ['mql', 'lifecycle_stage'],
        ['customer', 'lifecycle_stage'],
        ['demo-request-form', 'form_submission'],
        ['newsletter-form-mcc', 'form_submission'],
      ],
    );
    assert.deepEqual(
      problems.map((p) => [p.severity, p.definitionId, p.message]),
      [['warning', 'newsletter-form-mcc', MANAGER_FORM_WARNING]],
    );
  });
});
