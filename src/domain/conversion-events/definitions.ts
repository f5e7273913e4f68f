// Conversion event definitions (HubSpot → Google Ads, Flows A and B) as an operator declares them in the
// RELAY_CONFIG file: the schema that normalizes them, the rules HubSpot itself enforces on them, and the
// lookups the webhooks use. Pure: the file is read in src/config/conversion-events.ts.
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

export type HubSpotTier = 'professional' | 'enterprise';
export type SharedField = 'email' | 'phone' | 'firstName' | 'lastName' | 'address';
export type ContactsScope = 'all' | 'with_click_id';

export type DefinitionValue =
  { type: 'deal_amount'; default: number; currency: string } | { type: 'custom'; amount: number; currency: string };

interface DefinitionBase {
  id: string;
  name: string;
  enabled: boolean;
  /** ISO 8601 with an offset, as written: stage changes before it do not count. */
  createdAt: string;
  /** 10 digits, no dashes. */
  customerId: string;
  /** The manager account requests go through, 10 digits. */
  loginCustomerId?: string;
  /** customerId is itself a manager (MCC) account. */
  managerAccount?: boolean;
  value: DefinitionValue;
  /** The contact property holding consent, and the value of it that means "consents". */
  consent?: { property: string; value: string };
  sharedFields: SharedField[];
  contacts: ContactsScope;
  primary: boolean;
}

export interface LifecycleDefinition extends DefinitionBase {
  /** conversionAction is the resource name `customers/{customerId}/conversionActions/{id}`. */
  trigger: { type: 'lifecycle_stage'; stage: string; conversionAction: string };
}

export interface FormDefinition extends DefinitionBase {
  /** conversionAction is the resource name `customers/{customerId}/conversionActions/{id}`. */
  trigger: { type: 'form_submission'; formId: string; conversionAction: string };
  /**
   * The hidden form field that carries the Google tag's transaction id: the order id of the conversion the tag
   * recorded. Without it (or when a submission leaves it empty) the submission's conversionId is the order id.
   */
  orderIdField?: string;
  /**
   * How often the relay reads the form's new submissions from HubSpot (its Schedule); absent means every
   * DEFAULT_FORM_POLL; false switches the poll off (for sites that post submissions to the forms webhook).
   */
  poll?: { every: string; everyMs: number } | false;
}

/** How often a form definition's submissions are read from HubSpot unless it says otherwise. */
export const DEFAULT_FORM_POLL = { every: '5m', everyMs: 5 * 60_000 } as const;
/** The shortest poll interval: HubSpot's forms API is not a stream. */
export const MIN_FORM_POLL_MS = 60_000;

/** The poll of a form definition, or undefined when it is switched off. */
export function formPoll(def: FormDefinition): { every: string; everyMs: number } | undefined {
  if (def.poll === false) return undefined;
  return def.poll ?? DEFAULT_FORM_POLL;
}

export type Definition = LifecycleDefinition | FormDefinition;

export interface GoogleAdsAccount {
  customerId: string;
  loginCustomerId?: string;
  manager?: boolean;
}

/**
 * Contact properties where the portal's site stores the iOS click ids Google sends instead of a gclid
 * (HubSpot itself captures only the gclid, in hs_google_click_id).
 */
export interface ClickIdProperties {
  gbraid?: string;
  wbraid?: string;
}

export interface ConversionEventsConfig {
  hubspot: { tier: HubSpotTier; clickIdProperties?: ClickIdProperties };
  googleAds?: { accounts?: GoogleAdsAccount[] };
  definitions: Definition[];
}

export interface DefinitionProblem {
  definitionId?: string;
  /** Where in the file, e.g. `definitions[2].trigger.conversionAction`; `(file)` for the file as a whole. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
  /** 1-based line in the file, when the loader could find one. */
  line?: number;
}

export type DefinitionStatus = 'active' | 'disabled' | 'never-uploads (manager account)';

/** Lifecycle-stage conversion events a HubSpot Marketing Hub portal may have, by subscription. */
export const LIFECYCLE_DEFINITION_LIMITS: Readonly<Record<HubSpotTier, number>> = { professional: 50, enterprise: 100 };

export const MANAGER_FORM_WARNING =
  'accepted but never uploads: Google Ads does not accept enhanced conversions for web on manager accounts';

/** HubSpot's built-in lifecycle stages, by internal value; custom stages have numeric internal ids. */
export const HUBSPOT_DEFAULT_LIFECYCLE_STAGES: readonly string[] = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

// ---------------------------------------------------------------------------------------------- schema

// YAML reads an unquoted 1234567890 as a number; ids beyond 2^53 would already have lost digits by then.
const idLike = (what: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'number' && !(Number.isSafeInteger(v) && v >= 0)) {
      ctx.addIssue({ code: 'custom', message: `${what} is too long to be read as a number: write it in quotes` });
      return z.NEVER;
    }
    return String(v).trim();
  });

export const customerIdSchema = idLike('a customer id').transform((v, ctx) => {
  if (/^\d{10}$/.test(v) || /^\d{3}-\d{3}-\d{4}$/.test(v)) return v.replace(/-/g, '');
  ctx.addIssue({ code: 'custom', message: 'a Google Ads customer id is 10 digits, like 123-456-7890 or 1234567890' });
  return z.NEVER;
});

const RESOURCE_NAME = /^customers\/(\d{10})\/conversionActions\/(\d+)$/;

// The customer of the resource name can be checked only against the definition's customerId (below).
export const conversionActionSchema = idLike('a conversion action id').transform((v, ctx) => {
  if (/^\d+$/.test(v) || RESOURCE_NAME.test(v)) return v;
  ctx.addIssue({
    code: 'custom',
    message: 'a conversion action is its numeric id or a resource name customers/{customerId}/conversionActions/{id}',
  });
  return z.NEVER;
});

const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

const currencies = new Set(Intl.supportedValuesOf('currency'));
export const currencySchema = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const code = v.toUpperCase();
    if (/^[A-Z]{3}$/.test(code) && (currencies.size === 0 || currencies.has(code))) return code;
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 4217 currency code such as EUR, USD or NOK' });
    return z.NEVER;
  });

const valueSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('deal_amount'),
    // Used whenever there is no usable deal (none, closed-lost, amount not positive), so it must be a real value.
    default: z.number().positive({ message: 'the default value must be greater than 0' }),
    currency: currencySchema,
  }),
  z.strictObject({
    type: z.literal('custom'),
    amount: z.number().nonnegative({ message: 'the amount must not be negative' }),
    currency: currencySchema,
  }),
]);

const triggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('lifecycle_stage'),
    stage: idLike('a lifecycle stage').pipe(nonEmpty),
    conversionAction: conversionActionSchema,
  }),
  z.strictObject({
    type: z.literal('form_submission'),
    formId: idLike('a form id').pipe(nonEmpty),
    conversionAction: conversionActionSchema,
  }),
]);

// YAML turns `value: true` into a boolean; HubSpot holds checkbox properties as the strings "true"/"false".
const consentValueSchema = z.union([z.string(), z.boolean(), z.number()]).transform((v) => String(v).trim());

const sharedFieldSchema = z.enum(['email', 'phone', 'firstName', 'lastName', 'address']);

export const definitionSchema = z
  .strictObject({
    id: z
      .string()
      .trim()
      .max(64, { message: 'at most 64 characters' })
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
        message: 'must be a slug: lowercase letters, digits and single hyphens, e.g. "mql-to-google"',
      }),
    name: nonEmpty,
    enabled: z.boolean().default(true),
    // A YAML 1.1 document may turn an unquoted timestamp into a Date; an offset is then implied (UTC).
    createdAt: z.preprocess(
      (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : v),
      z.iso.datetime({
        offset: true,
        message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-15T09:00:00+01:00',
      }),
    ),
    customerId: customerIdSchema,
    loginCustomerId: customerIdSchema.optional(),
    managerAccount: z.boolean().optional(),
    trigger: triggerSchema,
    value: valueSchema,
    consent: z.strictObject({ property: nonEmpty, value: consentValueSchema.pipe(nonEmpty) }).optional(),
    sharedFields: z
      .array(sharedFieldSchema)
      .min(1, { message: 'share at least one field (email is recommended)' })
      .default(['email'])
      .transform((fields) => [...new Set(fields)]),
    contacts: z.enum(['all', 'with_click_id']).default('all'),
    primary: z.boolean().default(true),
    // Form definitions only (checked below).
    orderIdField: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: 'must be a HubSpot form field name (letters, digits, _ . -)' })
      .optional(),
    poll: z
      .unknown()
      .optional()
      .transform((v, ctx): { every: string; everyMs: number } | false | undefined => {
        if (v === undefined || v === false) return v;
        const every = typeof v === 'object' && v !== null ? (v as { every?: unknown }).every : undefined;
        if (
          typeof v !== 'object' ||
          v === null ||
          Object.keys(v).some((k) => k !== 'every') ||
          typeof every !== 'string'
        ) {
          ctx.addIssue({ code: 'custom', message: 'must be false (no poll) or { every: "5m" }' });
          return z.NEVER;
        }
        try {
          const ms = msToNumber(every as Parameters<typeof msToNumber>[0]);
          if (Number.isFinite(ms) && ms >= MIN_FORM_POLL_MS) return { every, everyMs: ms };
        } catch {
          // reported below
        }
        ctx.addIssue({
          code: 'custom',
          path: ['every'],
          message: `must be a duration of at least 1m, like "5m": ${JSON.stringify(every)}`,
        });
        return z.NEVER;
      })
      .optional(),
  })
  .superRefine((d, ctx) => {
    if (d.trigger.type === 'form_submission') return;
    for (const key of ['orderIdField', 'poll'] as const) {
      if (d[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'only a form_submission definition has this' });
      }
    }
  })
  .superRefine(
    (d, ctx) => {
      const owner = RESOURCE_NAME.exec(d.trigger.conversionAction)?.[1];
      if (owner !== undefined && owner !== d.customerId) {
        ctx.addIssue({
          code: 'custom',
          path: ['trigger', 'conversionAction'],
          message: `conversion action belongs to customer ${owner}, not to this definition's customerId ${d.customerId}`,
        });
      }
    },
    // Runs even when unrelated fields are wrong, so a file's problems all show up in one validate run.
    { when: (payload) => !payload.issues.some((i) => i.path?.[0] === 'customerId' || i.path?.[0] === 'trigger') },
  )
  .transform((d): Definition => {
    const action = d.trigger.conversionAction;
    const conversionAction = RESOURCE_NAME.test(action)
      ? action
      : `customers/${d.customerId}/conversionActions/${action}`;
    const { loginCustomerId, managerAccount, consent, trigger, orderIdField, poll, ...rest } = d;
    const base = {
      ...rest,
      ...(loginCustomerId !== undefined ? { loginCustomerId } : {}),
      ...(managerAccount !== undefined ? { managerAccount } : {}),
      ...(consent !== undefined ? { consent } : {}),
    };
    if (trigger.type === 'lifecycle_stage') return { ...base, trigger: { ...trigger, conversionAction } };
    return {
      ...base,
      trigger: { ...trigger, conversionAction },
      ...(orderIdField !== undefined ? { orderIdField } : {}),
      ...(poll !== undefined ? { poll } : {}),
    };
  });

export const googleAdsAccountSchema = z.strictObject({
  customerId: customerIdSchema,
  loginCustomerId: customerIdSchema.optional(),
  manager: z.boolean().optional(),
});

const tierSchema = z.enum(['professional', 'enterprise'], {
  message: 'must be "professional" or "enterprise" (the Marketing Hub subscription)',
});

// HubSpot internal property names: letters, digits and underscores.
export const propertyNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_]{1,100}$/, { message: 'must be a HubSpot internal property name (letters, digits, _)' });

const configShape = {
  hubspot: z.strictObject({
    tier: tierSchema,
    clickIdProperties: z
      .strictObject({ gbraid: propertyNameSchema.optional(), wbraid: propertyNameSchema.optional() })
      .optional(),
  }),
  googleAds: z.strictObject({ accounts: z.array(googleAdsAccountSchema).optional() }).optional(),
};

/** The top level alone, definitions unchecked: lets the loader check each definition on its own. */
export const configEnvelopeSchema = z.strictObject({ ...configShape, definitions: z.array(z.unknown()) });

export const conversionEventsConfigSchema = z
  .strictObject({ ...configShape, definitions: z.array(definitionSchema) })
  .transform((c, ctx): ConversionEventsConfig => {
    const { config, problems } = resolveAccounts(c);
    for (const p of problems) ctx.addIssue({ code: 'custom', message: p.message, path: parsePath(p.path) });
    return config;
  });

/**
 * Definitions inherit loginCustomerId and the manager flag from googleAds.accounts, so an account is described
 * once; a definition that says otherwise than its account is an error rather than a silent override.
 */
export function resolveAccounts(
  config: ConversionEventsConfig,
  indexOf: (position: number) => number = (i) => i,
): { config: ConversionEventsConfig; problems: DefinitionProblem[] } {
  const accounts = new Map((config.googleAds?.accounts ?? []).map((a) => [a.customerId, a]));
  const problems: DefinitionProblem[] = [];
  const definitions = config.definitions.map((def, position): Definition => {
    const account = accounts.get(def.customerId);
    if (!account) return def;
    const at = `definitions[${indexOf(position)}]`;
    const conflict = (field: string, mine: unknown, theirs: unknown) =>
      problems.push({
        definitionId: def.id,
        path: `${at}.${field}`,
        severity: 'error',
        message: `${field} is ${String(mine)} here but ${String(theirs)} in googleAds.accounts for customer ${def.customerId}`,
      });
    if (def.managerAccount !== undefined && account.manager !== undefined && def.managerAccount !== account.manager) {
      conflict('managerAccount', def.managerAccount, account.manager);
    }
    if (def.loginCustomerId && account.loginCustomerId && def.loginCustomerId !== account.loginCustomerId) {
      conflict('loginCustomerId', def.loginCustomerId, account.loginCustomerId);
    }
    const loginCustomerId = def.loginCustomerId ?? account.loginCustomerId;
    const managerAccount = def.managerAccount ?? account.manager;
    return {
      ...def,
      ...(loginCustomerId !== undefined ? { loginCustomerId } : {}),
      ...(managerAccount !== undefined ? { managerAccount } : {}),
    };
  });
  return { config: { ...config, definitions }, problems };
}

// ---------------------------------------------------------------------------------------------- paths

/** `['definitions', 2, 'trigger']` → `definitions[2].trigger`. */
export function formatPath(path: readonly PropertyKey[]): string {
  const text = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  return text === '' ? '(file)' : text;
}

/** The inverse of formatPath. */
export function parsePath(path: string): (string | number)[] {
  if (path === '(file)') return [];
  const segments: (string | number)[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)) {
    segments.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? ''));
  }
  return segments;
}

/** One line: severity, path, where, message. */
export function formatProblem(p: DefinitionProblem): string {
  const where = [p.line !== undefined ? `line ${p.line}` : '', p.definitionId ? `definition "${p.definitionId}"` : '']
    .filter(Boolean)
    .join(', ');
  return `${p.severity.padEnd(7)} ${p.path}${where ? ` (${where})` : ''}: ${p.message}`;
}

// ---------------------------------------------------------------------------------------------- rules

export interface ValidateOptions {
  /** For the "created in the future" check. */
  now?: number;
  /** Where each definition sits in the file, when only some of them could be parsed. */
  indexOf?: (position: number) => number;
}

const sameKey = (s: string) => s.trim().toLowerCase();

/** HubSpot's own rules over a whole set of definitions, plus what would surprise an operator later. */
export function validateDefinitions(config: ConversionEventsConfig, opts: ValidateOptions = {}): DefinitionProblem[] {
  const now = opts.now ?? Date.now();
  const indexOf = opts.indexOf ?? ((i: number) => i);
  const problems: DefinitionProblem[] = [];
  const add = (severity: DefinitionProblem['severity'], position: number, field: string, message: string) => {
    const def = config.definitions[position];
    problems.push({
      ...(def ? { definitionId: def.id } : {}),
      path: `definitions[${indexOf(position)}]${field ? `.${field}` : ''}`,
      message,
      severity,
    });
  };

  const seenAccounts = new Map<string, number>();
  (config.googleAds?.accounts ?? []).forEach((account, i) => {
    const first = seenAccounts.get(account.customerId);
    if (first === undefined) seenAccounts.set(account.customerId, i);
    else {
      problems.push({
        path: `googleAds.accounts[${i}].customerId`,
        severity: 'error',
        message: `customer ${account.customerId} is already described by googleAds.accounts[${first}]`,
      });
    }
  });

  const ids = new Map<string, number>();
  const forms = new Map<string, number>();
  const stageActions = new Map<string, number>();
  const limit = LIFECYCLE_DEFINITION_LIMITS[config.hubspot.tier];
  const lifecycleCount = config.definitions.filter((d) => d.trigger.type === 'lifecycle_stage').length;
  let lifecycleSeen = 0;

  config.definitions.forEach((def, position) => {
    const firstWithId = ids.get(def.id);
    if (firstWithId === undefined) ids.set(def.id, position);
    else {
      add('error', position, 'id', `duplicate id "${def.id}": already used by definitions[${indexOf(firstWithId)}]`);
    }

    if (!def.enabled) add('warning', position, 'enabled', 'switched off: nothing is synced for it');

    if (Date.parse(def.createdAt) > now) {
      add('warning', position, 'createdAt', 'is in the future: nothing counts until then');
    }

    if (def.trigger.type === 'lifecycle_stage') {
      lifecycleSeen += 1;
      // Disabled definitions count too: HubSpot counts the events that exist, switched on or not.
      if (lifecycleSeen === limit + 1) {
        add(
          'error',
          position,
          '',
          `${lifecycleCount} lifecycle-stage definitions: Marketing Hub ${config.hubspot.tier} allows at most ${limit}`,
        );
      }
      const stage = sameKey(def.trigger.stage);
      if (!HUBSPOT_DEFAULT_LIFECYCLE_STAGES.includes(stage) && !/^\d+$/.test(stage)) {
        add(
          'warning',
          position,
          'trigger.stage',
          `"${def.trigger.stage}" is not one of HubSpot's default lifecycle stages ` +
            `(${HUBSPOT_DEFAULT_LIFECYCLE_STAGES.join(', ')}); a custom stage must be given by its internal id, not its label`,
        );
      }
      const key = `${stage}\n${def.trigger.conversionAction}`;
      const other = stageActions.get(key);
      if (other === undefined) stageActions.set(key, position);
      else if (def.enabled && config.definitions[other]?.enabled) {
        add(
          'warning',
          position,
          'trigger',
          `definitions[${indexOf(other)}] already uploads stage ${def.trigger.stage} to ` +
            `${def.trigger.conversionAction}: every such stage change would be counted twice`,
        );
      }
      // The lifecycle workflow uploads click conversions, which take hashed email and phone only.
      const unsent = def.sharedFields.filter((f) => f !== 'email' && f !== 'phone');
      if (unsent.length > 0) {
        add(
          'warning',
          position,
          'sharedFields',
          `${unsent.join(', ')} ${unsent.length > 1 ? 'are' : 'is'} not sent with lifecycle-stage conversions: ` +
            'Google Ads enhanced conversions for leads take hashed email and phone only',
        );
      }
    } else {
      const form = sameKey(def.trigger.formId);
      const firstWithForm = forms.get(form);
      if (firstWithForm === undefined) forms.set(form, position);
      else {
        const first = config.definitions[firstWithForm];
        add(
          'error',
          position,
          'trigger.formId',
          `form ${def.trigger.formId} is already the trigger of "${first?.id}" (definitions[${indexOf(firstWithForm)}]): ` +
            'each HubSpot form can trigger only one conversion event',
        );
      }
      if (isManagerAccount(def, config)) add('warning', position, 'customerId', MANAGER_FORM_WARNING);
      if (def.value.type === 'deal_amount') {
        add(
          'warning',
          position,
          'value.type',
          `a form submission has no deal: its enhancement restates no value (the default ${def.value.default} ${def.value.currency} is not sent), so the conversion keeps the value the Google tag recorded; use type custom to restate one`,
        );
      }
    }
  });
  return problems;
}

function isManagerAccount(def: Definition, config: ConversionEventsConfig): boolean {
  if (def.managerAccount !== undefined) return def.managerAccount;
  return config.googleAds?.accounts?.find((a) => a.customerId === def.customerId)?.manager ?? false;
}

export function definitionStatus(def: Definition, config: ConversionEventsConfig): DefinitionStatus {
  if (!def.enabled) return 'disabled';
  if (def.trigger.type === 'form_submission' && isManagerAccount(def, config)) return 'never-uploads (manager account)';
  return 'active';
}

// ---------------------------------------------------------------------------------------------- lookups

/** Enabled definitions for a HubSpot lifecycle stage (internal value, compared case-insensitively). */
export function lifecycleDefinitionsForStage(config: ConversionEventsConfig, stage: string): LifecycleDefinition[] {
  const key = sameKey(stage);
  return config.definitions.filter(
    (d): d is LifecycleDefinition =>
      d.enabled && d.trigger.type === 'lifecycle_stage' && sameKey(d.trigger.stage) === key,
  );
}

/**
 * The definition a HubSpot form triggers, switched on or not: a submission for a switched-off (or MCC)
 * definition starts a workflow that records why nothing was sent, instead of being refused as unknown.
 */
export function formDefinitionFor(config: ConversionEventsConfig, formId: string): FormDefinition | undefined {
  const key = sameKey(formId);
  const matches = config.definitions.filter(
    (d): d is FormDefinition => d.trigger.type === 'form_submission' && sameKey(d.trigger.formId) === key,
  );
  return matches.find((d) => d.enabled) ?? matches[0];
}
