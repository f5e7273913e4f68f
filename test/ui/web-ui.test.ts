// The Temporal Web UI in a real browser (`npm run test:ui`): the `npm start` stack (`relay start`, on free ports and
// a fresh RELAY_DATA_DIR), `relay demo --json` against it, then Chromium on the CM360 conversion the demo names.
// The Web UI must show what the README promises: the input decrypted through the api's codec, the summary, the
// current details and the `status` query. Every expected value comes from the workflow itself (its id, and its
// history and query decoded by the Temporal CLI), so a broken codec, a missing summary or wrong details fail.
// Screenshots of each view go to test-results/ui/; on a failure, a screenshot and the page's text too.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { projectRoot } from '../../src/dev/temporal-binaries';
import { startRelayStack, type RelayStack } from '../helpers/npm-start';
import { queryThroughTemporal, runDemo, workflowTruth, type DemoOutput, type WorkflowTruth } from './stack';

const ARTIFACTS = join(projectRoot, 'test-results', 'ui');
/** How long the page may take to show one thing (it loads the workflow, then decodes through the codec). */
const VIEW_TIMEOUT_MS = 30_000;

interface Conversion {
  ordinal: string;
  floodlightConfigurationId: string;
  floodlightActivityId: string;
  userIdentifiers: Record<string, unknown>[];
}

let stack: RelayStack | undefined;
let browser: Browser | undefined;
let page: Page;
let demo: DemoOutput;
let workflow: DemoOutput['workflows'][number];
let truth: WorkflowTruth;
let conversion: Conversion;
let status: Record<string, unknown>;
/** The conversion's identity as its workflow id spells it: cm360-enhance-<configuration>-<activity>-<ordinal>. */
let fromId: { configuration: string; activity: string; ordinal: string };

const shown = (path: string) => relative(process.cwd(), path) || path;
/** An all-digit id has one spelling (the workflow id's); anything else is compared as it is. */
const canonical = (id: string) => (/^\d+$/.test(id) ? BigInt(id).toString() : id);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `"key": "value"` as the UI's JSON view prints it, whatever the spacing. */
const jsonField = (key: string, value: string) => new RegExp(`"${escapeRegExp(key)}":\\s*"${escapeRegExp(value)}"`);
/** Rendered markdown: one space for every run of white space, and "/" for the fraction slash typography makes of it. */
const normalized = (text: string) =>
  text
    .replace(/\u2044/g, '/')
    .replace(/\s+/g, ' ')
    .trim();

/** The first hashed identifier of the conversion, as key and value (e.g. hashedEmail and its hex digest). */
function firstHashedIdentifier(c: Conversion): [string, string] {
  const walk = (value: unknown): [string, string] | undefined => {
    if (typeof value !== 'object' || value === null) return undefined;
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('hashed') && typeof v === 'string') return [k, v];
      const inner = walk(v);
      if (inner) return inner;
    }
    return undefined;
  };
  const found = walk(c.userIdentifiers);
  assert.ok(found, `the conversion has no hashed identifier: ${JSON.stringify(c.userIdentifiers)}`);
  return found;
}

/** Polls `read` (a text of the page) until `holds` says yes; fails after the bound with the last text seen. */
async function shows(what: string, read: () => Promise<string>, holds: (text: string) => boolean): Promise<string> {
  const until = Date.now() + VIEW_TIMEOUT_MS;
  let last = '';
  let lastError = '';
  for (;;) {
    try {
      last = await read();
      if (holds(last)) return last;
    } catch (err) {
      lastError = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
    if (Date.now() > until) {
      throw new Error(
        `the Web UI did not show ${what} within ${VIEW_TIMEOUT_MS} ms; last text seen:\n${last || '(none)'}` +
          (lastError ? `\n(last error: ${lastError})` : ''),
      );
    }
    await pause(250);
  }
}

/** The text of an element, as shown (its whole content, for a frame's body). */
const textOf = (locator: Locator) => () => locator.innerText({ timeout: 2_000 });

async function screenshot(t: TestContext, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${shown(path)}`);
  return path;
}

/** Runs a check of one view; when it fails, leaves a screenshot and the page's text (frames included) behind. */
async function checking(t: TestContext, name: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    const png = join(ARTIFACTS, `${name}-failure.png`);
    const txt = join(ARTIFACTS, `${name}-failure.txt`);
    await page.screenshot({ path: png, fullPage: true }).catch(() => undefined);
    const texts = await Promise.all(
      page.frames().map(async (f) => `--- frame ${f.url()}\n${await f.locator('body').innerText().catch(String)}`),
    );
    writeFileSync(txt, `${page.url()}\n\n${texts.join('\n\n')}\n`);
    t.diagnostic(`failure screenshot: ${shown(png)}; page text: ${shown(txt)}`);
    // The UI's own word for a codec it cannot reach (endpoint down, or CORS refusing its origin).
    if (texts.some((text) => text.includes('Codec Server could not connect'))) {
      t.diagnostic(`the Web UI says "Codec Server could not connect" (its codec endpoint: ${stack?.apiUrl}/codec/t/…)`);
    }
    throw err;
  }
}

/** The workflow's page as the demo links it, on the given tab (the page opens on Timeline, with Input and Result). */
async function openWorkflow(tab?: string): Promise<void> {
  await page.goto(workflow.url, { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { name: new RegExp(escapeRegExp(workflow.workflowId)) }).waitFor();
  if (tab) {
    await page.getByRole('tab', { name: tab, exact: true }).click();
    await page.getByRole('tab', { name: tab, exact: true, selected: true }).waitFor();
  }
}

/** The stack, `relay demo`, what Temporal says about the demo's CM360 conversion, and a browser; timed. */
async function setUp(t: TestContext): Promise<void> {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  let since = Date.now();
  const took = (what: string) => {
    t.diagnostic(`${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
    since = Date.now();
  };
  stack = await startRelayStack({ startTimeoutMs: 120_000 });
  took(`relay start up (Web UI ${stack.temporal.uiUrl}, api ${stack.apiUrl}, data ${stack.dataDir})`);
  demo = await runDemo(stack);
  took('relay demo --json');
  const cm360 = demo.workflows.find((w) => w.flow === 'cm360-enhancement');
  assert.ok(cm360, `relay demo --json names no cm360-enhancement workflow: ${JSON.stringify(demo.workflows)}`);
  workflow = cm360;
  t.diagnostic(`workflow under test: ${workflow.url}`);
  const id = /^cm360-enhance-(\d+)-(\d+)-(.+)$/.exec(workflow.workflowId);
  assert.ok(id, `not a CM360 enhancement workflow id: ${workflow.workflowId}`);
  fromId = { configuration: id[1]!, activity: id[2]!, ordinal: id[3]! };
  truth = await workflowTruth(stack, workflow.workflowId);
  conversion = (truth.input as { conversion: Conversion }).conversion;
  status = (await queryThroughTemporal(stack, workflow.workflowId, 'status')) as Record<string, unknown>;
  took('the history and the status query through the Temporal CLI');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(VIEW_TIMEOUT_MS);
  took(`Chromium ${browser.version()}`);
}

after(async () => {
  await browser?.close().catch(() => undefined);
  if (stack) {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'relay-start.log'), stack.output());
    // The dev server's own log goes with the data directory: keep it beside the screenshots.
    const temporalLog = join(stack.dataDir, 'temporal.log');
    if (existsSync(temporalLog)) copyFileSync(temporalLog, join(ARTIFACTS, 'temporal.log'));
    await stack.stop();
  }
});

// One test whose set-up failing (the stack, the demo) fails it with the reason; a subtest per view of the UI.
test('the Temporal Web UI of npm start, in Chromium', async (t) => {
  await setUp(t);

  await t.test('relay demo --json links a CM360 conversion of this stack, captured and waiting for its index', () => {
    assert.equal(demo.uiUrl, stack?.temporal.uiUrl, 'relay demo must name the Web UI of the stack in RELAY_DATA_DIR');
    assert.equal(demo.namespace, stack?.temporal.namespace);
    // The workflow's page, maybe of its run and on a tab: <uiUrl>/namespaces/<ns>/workflows/<id>[/<runId>[/<tab>]].
    const pageUrl = new RegExp(
      `^${escapeRegExp(`${demo.uiUrl}/namespaces/${encodeURIComponent(demo.namespace)}/workflows/${encodeURIComponent(workflow.workflowId)}`)}(/[\\w-]+(/[\\w-]+)?)?$`,
    );
    assert.match(workflow.url, pageUrl, "the demo's link is not the workflow's page in this stack's Web UI");
    // The workflow id and the history agree on the conversion: what the UI must show below is this.
    assert.equal(canonical(conversion.floodlightConfigurationId), fromId.configuration);
    assert.equal(canonical(conversion.floodlightActivityId), fromId.activity);
    assert.equal(canonical(conversion.ordinal), fromId.ordinal);
    assert.equal(
      status.state,
      'WAITING_FOR_INDEX',
      `with CM360_ENHANCE_DELAY at its default (90m) the conversion waits for its index: ${JSON.stringify(status)}`,
    );
  });

  await t.test('the workflow page shows the input decrypted through the codec', async (t) => {
    await checking(t, 'workflow-input', async () => {
      await openWorkflow();
      await page.getByRole('heading', { name: 'Input', exact: true }).waitFor();
      const [hashKey, hashValue] = firstHashedIdentifier(conversion);
      const wanted = [
        jsonField('floodlightConfigurationId', conversion.floodlightConfigurationId),
        jsonField('floodlightActivityId', conversion.floodlightActivityId),
        jsonField('ordinal', conversion.ordinal),
        jsonField(hashKey, hashValue),
      ];
      const input = await shows(
        `the decoded input (${wanted.map(String).join(', ')})`,
        textOf(page.getByRole('textbox', { name: 'Input', exact: true })),
        (text) => wanted.every((w) => w.test(text)),
      );
      assert.doesNotMatch(input, /binary\/encrypted|encryption-key-id/, 'the input must not be shown encrypted');
      await screenshot(t, 'workflow-input');
    });
  });

  await t.test(
    'User Metadata shows the summary naming the Floodlight configuration, activity and ordinal',
    async (t) => {
      await checking(t, 'summary', async () => {
        assert.ok(truth.summary, 'the workflow has no user-metadata summary');
        for (const part of [fromId.configuration, fromId.activity, conversion.ordinal]) {
          assert.ok(truth.summary.includes(part), `the summary "${truth.summary}" does not name ${part}`);
        }
        await openWorkflow('User Metadata');
        await page.getByRole('heading', { name: 'Summary', exact: true }).waitFor();
        const summary = await shows(
          `the summary naming Floodlight ${conversion.floodlightConfigurationId}/${conversion.floodlightActivityId} and ordinal ${conversion.ordinal}`,
          textOf(page.frameLocator('iframe#user-metadata-summary').locator('body')),
          (text) =>
            normalized(text).includes(
              `Floodlight ${conversion.floodlightConfigurationId}/${conversion.floodlightActivityId}`,
            ) && normalized(text).includes(`ordinal ${conversion.ordinal}`),
        );
        assert.equal(normalized(summary), normalized(truth.summary), 'the summary shown is the one in the history');
        await screenshot(t, 'summary');
      });
    },
  );

  await t.test('User Metadata shows the current details: WAITING_FOR_INDEX until the first attempt', async (t) => {
    await checking(t, 'current-details', async () => {
      const enhanceAt = String(status.enhanceAt);
      await openWorkflow('User Metadata');
      await page.getByRole('heading', { name: 'Current Details', exact: true }).waitFor();
      const details = await shows(
        `the current details WAITING_FOR_INDEX with the first attempt at ${enhanceAt}`,
        textOf(page.frameLocator('iframe#user-metadata-current-details').locator('body')),
        (text) => /^WAITING_FOR_INDEX\b/.test(normalized(text)) && normalized(text).includes(enhanceAt),
      );
      t.diagnostic(`current details: ${normalized(details)}`);
      await screenshot(t, 'current-details');
    });
  });

  await t.test('the Queries tab runs `status` and shows its decoded result', async (t) => {
    await checking(t, 'status-query', async () => {
      await openWorkflow('Queries');
      const queryType = page.getByRole('textbox', { name: 'Query Type' });
      // The query type is a select: open it (the button around the field) and pick `status` explicitly.
      await page.getByRole('button').filter({ has: queryType }).click();
      await page.getByRole('option', { name: 'status', exact: true }).click();
      await shows(
        'the query type status selected',
        () => queryType.inputValue(),
        (value) => value === 'status',
      );
      await page.getByRole('button', { name: 'Run Query', exact: true }).click();
      let shownStatus: Record<string, unknown> = {};
      await shows(
        `the decoded status query result (state ${String(status.state)})`,
        textOf(page.getByRole('textbox', { name: 'Query Result', exact: true })),
        (text) => {
          try {
            shownStatus = JSON.parse(text) as Record<string, unknown>;
            return shownStatus.state === status.state;
          } catch {
            return false;
          }
        },
      );
      // Field by field as the Temporal CLI decoded it (it prints an empty list as null).
      for (const [key, value] of Object.entries(status)) {
        const isEmpty = (v: unknown) => v === null || (Array.isArray(v) && v.length === 0);
        if (value === null) assert.ok(isEmpty(shownStatus[key]), `status.${key}: ${JSON.stringify(shownStatus[key])}`);
        else assert.deepEqual(shownStatus[key], value, `status.${key}`);
      }
      assert.deepEqual(
        Object.keys(shownStatus).filter((k) => !(k in status)),
        [],
        'the UI shows fields the query did not return',
      );
      await screenshot(t, 'status-query');
    });
  });

  await t.test(
    "the demo's saved query for failures opens a list holding the demo's failed form enhancement",
    async (t) => {
      await checking(t, 'saved-query', async () => {
        const failed = demo.queries.find((q) => q.query === 'RelayStatus = "FAILED"');
        assert.ok(failed, `relay demo --json has no saved query for failures: ${JSON.stringify(demo.queries)}`);
        // With CM360 waiting for its index, the form whose order id the tag never recorded is the demo's failure.
        const form = demo.workflows.find((w) => w.flow === 'hubspot-form-enhancement' && /FAILED/.test(w.outcome));
        assert.ok(form, `relay demo --json has no failed form enhancement: ${JSON.stringify(demo.workflows)}`);
        const good = demo.workflows.find((w) => w.flow === 'hubspot-form-enhancement' && w !== form)!;
        await page.goto(failed.url, { waitUntil: 'domcontentloaded' });
        const list = await shows(
          `the list filtered by ${failed.query}, with ${form.workflowId}`,
          textOf(page.locator('body')),
          (text) => text.includes(form.workflowId),
        );
        assert.ok(!list.includes(good.workflowId), 'the plain success must not be listed among the failures');
        await screenshot(t, 'saved-query');
      });
    },
  );
});
