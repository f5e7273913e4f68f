// The `pendo:` section of RELAY_CONFIG: every problem named by its path, a file with only this section is
// valid, and the schedule the section implies.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runEventsList, runEventsValidate } from '../../src/cli/events';
import { loadRelayConfigFile, parseConversionEventsConfig } from '../../src/config/conversion-events';
import { ConfigError } from '../../src/config/env';
import { parseWindow, pendoScheduleSpec } from '../../src/domain/pendo/config';
import { formatInZone } from '../../src/domain/time-zones';

const ISSUE_EXAMPLE = `
pendo:
  timeZone: Asia/Tokyo          # IANA zone of the Pendo subscription, required
  window: '00:00-06:00'         # optional; the nightly start lies inside it
  region: us
  visitor:
    idProperty: pendo_visitor_id
    properties: [lifecyclestage, hs_lead_status, num_employees]
  account:
    idProperty: pendo_account_id
    properties: [name, industry, annualrevenue]
`;

const parse = (yaml: string) => parseConversionEventsConfig(yaml, 'yaml');
const errors = (yaml: string) =>
  parse(yaml)
    .problems.filter((p) => p.severity === 'error')
    .map((p) => `${p.path}: ${p.message}`);

describe('pendo section', () => {
  test("the issue's example, alone in the file, is valid and declares no conversion events", () => {
    const loaded = parse(ISSUE_EXAMPLE);
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.config, undefined);
    assert.deepEqual(loaded.pendo, {
      timeZone: 'Asia/Tokyo',
      window: { startMinute: 0, lengthMinutes: 360, text: '00:00-06:00' },
      jitterMs: 30 * 60_000,
      region: 'us',
      visitor: { idProperty: 'pendo_visitor_id', properties: ['lifecyclestage', 'hs_lead_status', 'num_employees'] },
      account: { idProperty: 'pendo_account_id', properties: ['name', 'industry', 'annualrevenue'] },
    });
  });

  test('window and region have defaults; one level is enough', () => {
    const { pendo, problems } = parse(
      'pendo:\n  timeZone: Europe/Oslo\n  account: { idProperty: acct, properties: [name] }\n',
    );
    assert.deepEqual(problems, []);
    assert.equal(pendo?.window.text, '00:00-06:00');
    assert.equal(pendo?.region, 'us');
    assert.equal(pendo?.visitor, undefined);
  });

  test('every problem is reported with its path and line', () => {
    const bad = `pendo:
  timeZone: Mars/Olympus_Mons
  window: '6am-noon'
  region: moon
  colour: blue
  visitor:
    idProperty: 'pendo id'
    properties: [name, name, 'bad-name']
`;
    const found = parse(bad).problems;
    const byPath = Object.fromEntries(found.map((p) => [p.path, p]));
    assert.match(byPath['pendo.timeZone']?.message ?? '', /IANA time zone/);
    assert.equal(byPath['pendo.timeZone']?.line, 2);
    assert.match(byPath['pendo.window']?.message ?? '', /00:00-06:00/);
    assert.match(byPath['pendo.region']?.message ?? '', /us, eu, us1, jp, au/);
    assert.match(byPath['pendo.colour']?.message ?? '', /unknown field/);
    assert.match(byPath['pendo.visitor.idProperty']?.message ?? '', /internal property name/);
    assert.match(byPath['pendo.visitor.properties[1]']?.message ?? '', /listed twice/);
    assert.match(byPath['pendo.visitor.properties[2]']?.message ?? '', /internal property name/);
    assert.equal(found.length, 7, JSON.stringify(found));
  });

  test('timeZone is required, a fixed offset is not a zone, and some level must be configured', () => {
    assert.deepEqual(errors('pendo:\n  visitor: { idProperty: v, properties: [a] }\n'), [
      'pendo.timeZone: is required',
    ]);
    assert.match(
      errors('pendo:\n  timeZone: "+09:00"\n  visitor: { idProperty: v, properties: [a] }\n')[0] ?? '',
      /IANA/,
    );
    assert.deepEqual(errors('pendo:\n  timeZone: UTC\n'), ['pendo: configure visitor, account or both']);
    assert.match(
      errors('pendo:\n  timeZone: UTC\n  visitor: { idProperty: v, properties: [] }\n')[0] ?? '',
      /at least one/,
    );
  });

  test('jitter must keep the start inside the window', () => {
    assert.match(
      errors(
        "pendo:\n  timeZone: UTC\n  window: '01:00-02:00'\n  jitter: 2h\n  visitor: { idProperty: v, properties: [a] }\n",
      )[0] ?? '',
      /pendo.jitter: must be shorter than the window/,
    );
    const short = parse(
      "pendo:\n  timeZone: UTC\n  window: '01:00-01:20'\n  visitor: { idProperty: v, properties: [a] }\n",
    );
    assert.equal(short.pendo?.jitterMs, 10 * 60_000, 'half of a window shorter than an hour');
  });

  test('next to conversion events, both sections load; errors in either are all listed', () => {
    const file = `hubspot: { tier: professional }\ndefinitions: []\n${ISSUE_EXAMPLE}`;
    const loaded = parse(file);
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.config?.definitions.length, 0);
    assert.equal(loaded.pendo?.timeZone, 'Asia/Tokyo');
    assert.deepEqual(errors(`definitions: []\npendo: { timeZone: Nowhere }\n`).sort(), [
      'hubspot: is required',
      'pendo.timeZone: must be an IANA time zone such as Asia/Tokyo or Europe/Oslo',
      'pendo: configure visitor, account or both',
    ]);
  });

  test('loadRelayConfigFile throws every error at once, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pendo-config-'));
    const path = join(dir, 'relay.yaml');
    writeFileSync(path, 'pendo:\n  timeZone: Nowhere\n  region: moon\n  visitor: { idProperty: v, properties: [a] }\n');
    assert.throws(
      () => loadRelayConfigFile(path),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes(path) &&
        err.message.includes('pendo.timeZone') &&
        err.message.includes('pendo.region'),
    );
    writeFileSync(path, ISSUE_EXAMPLE);
    assert.equal(loadRelayConfigFile(path).pendo?.timeZone, 'Asia/Tokyo');
    assert.equal(loadRelayConfigFile(path).conversionEvents, undefined);
  });
});

describe('the schedule a pendo section implies', () => {
  test('a daily cron at the window start, in the zone, with jitter and catch-up inside the window', () => {
    const { pendo } = parse(ISSUE_EXAMPLE);
    assert.ok(pendo);
    assert.deepEqual(pendoScheduleSpec(pendo), {
      cron: '0 0 * * *',
      timezone: 'Asia/Tokyo',
      jitterMs: 30 * 60_000,
      catchupWindowMs: 5.5 * 3_600_000,
    });
  });

  test('windows that start at a minute or run past midnight', () => {
    assert.deepEqual(parseWindow('22:30-04:00'), {
      startMinute: 22 * 60 + 30,
      lengthMinutes: 330,
      text: '22:30-04:00',
    });
    assert.equal(parseWindow('06:00-06:00'), undefined);
    assert.equal(parseWindow('24:00-01:00'), undefined);
    const { pendo } = parse(
      "pendo:\n  timeZone: America/New_York\n  window: '22:30-04:00'\n  jitter: 1h\n  visitor: { idProperty: v, properties: [a] }\n",
    );
    assert.ok(pendo);
    const spec = pendoScheduleSpec(pendo);
    assert.equal(spec.cron, '30 22 * * *');
    assert.equal(spec.jitterMs + spec.catchupWindowMs, 330 * 60_000, 'a late start still begins before 04:00');
  });

  test('times shown in the subscription zone carry its offset on that day (daylight saving included)', () => {
    assert.equal(formatInZone(Date.UTC(2026, 11, 1, 15, 0, 0), 'Asia/Tokyo'), '2026-12-02 00:00:00+09:00');
    assert.equal(formatInZone(Date.UTC(2026, 6, 1, 4, 0, 0), 'America/New_York'), '2026-07-01 00:00:00-04:00');
    assert.equal(formatInZone(Date.UTC(2026, 11, 1, 5, 0, 0), 'America/New_York'), '2026-12-01 00:00:00-05:00');
    assert.equal(formatInZone(Date.UTC(2026, 11, 1, 5, 0, 0), 'UTC'), '2026-12-01 05:00:00+00:00');
  });
});

describe('relay events with a pendo-only file', () => {
  test('list and validate say there are no conversion events, without an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pendo-events-'));
    const path = join(dir, 'relay.yaml');
    writeFileSync(path, ISSUE_EXAMPLE);
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
    assert.equal(runEventsList(path, sink), 0);
    assert.match(out.join(''), /no conversion events defined/);
    out.length = 0;
    assert.equal(runEventsValidate(path, sink, sink), 0);
    assert.match(out.join(''), /: valid \(0 errors, 0 warnings\)/);
  });
});
