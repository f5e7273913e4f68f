// `relay events list|validate <file>`: what the conversion event definitions in RELAY_CONFIG will do, and
// what is wrong with them, before the api and worker are started on the file.
import { loadConversionEventsConfig, type LoadedConversionEvents } from '../config/conversion-events';
import { ConfigError } from '../config/env';
import {
  definitionStatus,
  formatProblem,
  MANAGER_FORM_WARNING,
  type ConversionEventsConfig,
  type Definition,
  type DefinitionProblem,
} from '../domain/conversion-events/definitions';

/** Prints the definitions as a table; 0 when the file loads (warnings allowed), 1 otherwise. */
export function runEventsList(path: string, out: NodeJS.WritableStream): number {
  const loaded = load(path, out);
  if (!loaded) return 1;
  const { config, problems } = loaded;
  const fileErrors = problems.filter((p) => p.severity === 'error');
  if (!config && fileErrors.length === 0) {
    out.write(`${path}: no conversion events defined\n`);
    return 0;
  }
  if (!config) {
    const errors = fileErrors;
    out.write(`${path}: cannot list the conversion events, ${plural(errors.length, 'error')}:\n`);
    for (const p of inReadingOrder(errors)) out.write(`  ${formatProblem(p)}\n`);
    return 1;
  }
  if (config.definitions.length === 0) {
    out.write(`${path}: no conversion events defined\n`);
  } else {
    out.write(table(config));
    const neverUploads = config.definitions.filter((d) => definitionStatus(d, config).startsWith('never-uploads'));
    for (const d of neverUploads) out.write(`\n${d.id}: ${MANAGER_FORM_WARNING}`);
    if (neverUploads.length > 0) out.write('\n');
  }
  const errors = count(problems, 'error');
  const warnings = count(problems, 'warning');
  if (errors + warnings > 0) {
    out.write(
      `\n${[errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ')}` +
        `: see relay events validate ${path}\n`,
    );
  }
  return errors > 0 ? 1 : 0;
}

/** Prints every problem; 0 when there are no errors (warnings allowed), 1 otherwise. */
export function runEventsValidate(path: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const loaded = load(path, err);
  if (!loaded) return 1;
  const { config, problems } = loaded;
  for (const p of inReadingOrder(problems)) out.write(`${formatProblem(p)}\n`);
  const errors = count(problems, 'error');
  const warnings = count(problems, 'warning');
  const definitions = config ? `${plural(config.definitions.length, 'conversion event')}, ` : '';
  const verdict = errors > 0 ? 'invalid' : 'valid';
  out.write(`${path}: ${verdict} (${definitions}${plural(errors, 'error')}, ${plural(warnings, 'warning')})\n`);
  return errors > 0 ? 1 : 0;
}

function load(path: string, err: NodeJS.WritableStream): LoadedConversionEvents | undefined {
  try {
    return loadConversionEventsConfig(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`${e.message}\n`);
    return undefined;
  }
}

/** Errors before warnings, each down the file. */
const inReadingOrder = (problems: DefinitionProblem[]) =>
  [...problems].sort(
    (a, b) => Number(a.severity !== 'error') - Number(b.severity !== 'error') || (a.line ?? 0) - (b.line ?? 0),
  );

const count = (problems: DefinitionProblem[], severity: DefinitionProblem['severity']) =>
  problems.filter((p) => p.severity === severity).length;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** 1234567890 → 123-456-7890, the way the Google Ads UI shows it. */
const dashed = (customerId: string) => customerId.replace(/^(\d{3})(\d{3})(\d{4})$/, '$1-$2-$3');

function valueText(def: Definition): string {
  const v = def.value;
  return v.type === 'custom' ? `${v.amount} ${v.currency}` : `deal amount (default ${v.default} ${v.currency})`;
}

const COLUMNS = [
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
] as const;

function row(def: Definition, config: ConversionEventsConfig): string[] {
  const trigger = def.trigger;
  const customer = dashed(def.customerId) + (def.loginCustomerId ? ` via ${dashed(def.loginCustomerId)}` : '');
  return [
    def.id,
    def.name,
    trigger.type === 'lifecycle_stage' ? 'lifecycle stage' : 'form submission',
    trigger.type === 'lifecycle_stage' ? trigger.stage : trigger.formId,
    customer,
    // The customer column already names the account; the action's own id is what the Google Ads UI shows.
    trigger.conversionAction.replace(/^customers\/\d+\/conversionActions\//, ''),
    valueText(def),
    def.sharedFields.join(', '),
    def.contacts === 'all' ? 'all' : 'with click id',
    definitionStatus(def, config),
  ];
}

function table(config: ConversionEventsConfig): string {
  const rows = [[...COLUMNS], ...config.definitions.map((d) => row(d, config))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd() + '\n').join('');
}
