// The translation of HubSpot properties into Pendo metadata, as Pendo's HubSpot integration documents it
// (seeds/002): which HubSpot property types have a Pendo type, and how each value is read. Pure.
import { hubSpotDateToIso } from '../hubspot/values';
import { PENDO_TEXT_MAX, type ImportedField, type PendoType, type SkippedField, type ValueParser } from './types';

/** The parts of a HubSpot property definition (`/crm/v3/properties/{object}`) the translation reads. */
export interface HubSpotPropertyDefinition {
  name: string;
  type: string;
  fieldType: string;
  calculated?: boolean;
  /** `OWNER` for HubSpot-user properties. */
  referencedObjectType?: string | null;
  hasUniqueValue?: boolean;
}

export type Translation =
  { imported: true; pendoType: PendoType; parser: ValueParser } | { imported: false; detail: string };

const to = (pendoType: PendoType, parser: ValueParser): Translation => ({ imported: true, pendoType, parser });

/** By HubSpot data type, for calculations: "according to the calculation". */
function byDataType(type: string): Translation | undefined {
  switch (type) {
    case 'string':
    case 'phone_number':
    case 'enumeration':
      return to('string', 'string');
    case 'number':
      return to('decimal', 'number');
    case 'bool':
      return to('boolean', 'boolean');
    case 'date':
      return to('time', 'date');
    case 'datetime':
      return to('time', 'datetime');
    default:
      return undefined;
  }
}

/**
 * The Pendo type of a HubSpot property, or why it has none. Field types decide first (a file is not
 * imported even though its data type is string; a single checkbox is boolean), then the data type.
 */
export function translateProperty(p: HubSpotPropertyDefinition): Translation {
  const none = (detail: string): Translation => ({ imported: false, detail });
  const type = p.type;
  const fieldType = p.fieldType;
  if (fieldType === 'file') return none('HubSpot file properties have no Pendo translation');
  // HubSpot user: the owner's id, a string in Pendo.
  if (p.referencedObjectType === 'OWNER') return to('string', 'string');
  if (fieldType === 'booleancheckbox') return to('boolean', 'boolean');
  if (fieldType.startsWith('calculation_') || p.calculated === true) {
    return byDataType(type) ?? none(`a calculation of HubSpot type "${type}" has no Pendo translation`);
  }
  switch (fieldType) {
    case 'text':
    case 'textarea':
    case 'html':
    case 'phonenumber':
    case 'select':
    case 'radio':
    case 'checkbox':
      // Multiple checkboxes stay one string, their values joined by ";" as HubSpot stores and returns them.
      return byDataType(type) ?? none(`HubSpot type "${type}" has no Pendo translation`);
    case 'number':
      return to('decimal', 'number');
    case 'date':
      return byDataType(type) ?? to('time', 'datetime');
    default:
      return byDataType(type) ?? none(`HubSpot type "${type}" (field type "${fieldType}") has no Pendo translation`);
  }
}

// Pendo metadata keys: letters, digits and underscores, starting with a letter or an underscore.
const PENDO_FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Chosen property names, resolved against HubSpot's definitions: what is imported, and what is skipped why. */
export function resolveFields(
  chosen: readonly string[],
  definitions: readonly HubSpotPropertyDefinition[],
): { fields: ImportedField[]; skipped: SkippedField[] } {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const fields: ImportedField[] = [];
  const skipped: SkippedField[] = [];
  for (const name of chosen) {
    const def = byName.get(name);
    if (!def) {
      skipped.push({ name, reason: 'UNKNOWN_PROPERTY', detail: `HubSpot has no property "${name}"` });
      continue;
    }
    if (!PENDO_FIELD_NAME.test(name)) {
      skipped.push({ name, reason: 'INVALID_PENDO_NAME', detail: 'Pendo field names start with a letter or _' });
      continue;
    }
    const t = translateProperty(def);
    if (!t.imported) skipped.push({ name, reason: 'NOT_SUPPORTED', detail: t.detail });
    else
      fields.push({ name, hubspotType: def.type, fieldType: def.fieldType, pendoType: t.pendoType, parser: t.parser });
  }
  return { fields, skipped };
}

export type PendoValue = string | number | boolean;

/** A value read for Pendo: absent (nothing to write), the value, or invalid (left out and counted). */
export type ParsedValue = { kind: 'absent' } | { kind: 'value'; value: PendoValue } | { kind: 'invalid' };

const ABSENT: ParsedValue = { kind: 'absent' };
const INVALID: ParsedValue = { kind: 'invalid' };
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DAY_MS = 86_400_000;

/** One HubSpot value (always a string on the wire) as its Pendo type. An empty value is absent, not invalid. */
export function parseValue(parser: ValueParser, raw: string | null | undefined): ParsedValue {
  if (raw === null || raw === undefined || raw === '') return ABSENT;
  switch (parser) {
    case 'string':
      return raw.length > PENDO_TEXT_MAX ? INVALID : { kind: 'value', value: raw };
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return v === 'true' ? { kind: 'value', value: true } : v === 'false' ? { kind: 'value', value: false } : INVALID;
    }
    case 'number': {
      const v = raw.trim();
      if (!NUMBER.test(v)) return INVALID;
      const n = Number(v);
      return Number.isFinite(n) ? { kind: 'value', value: n } : INVALID;
    }
    case 'date':
    case 'datetime': {
      const iso = hubSpotDateToIso(raw);
      if (iso === undefined) return INVALID;
      const ms = Date.parse(iso);
      // A HubSpot date is midnight UTC of its day.
      return { kind: 'value', value: parser === 'date' ? Math.floor(ms / DAY_MS) * DAY_MS : ms };
    }
  }
}

/** The Pendo `values` of one HubSpot record, and which properties were left out as invalid. */
export function translateRecord(
  fields: readonly ImportedField[],
  properties: Readonly<Record<string, string | null | undefined>>,
): { values: Record<string, PendoValue>; invalid: string[] } {
  const values: Record<string, PendoValue> = {};
  const invalid: string[] = [];
  for (const f of fields) {
    const parsed = parseValue(f.parser, properties[f.name]);
    if (parsed.kind === 'value') values[f.name] = parsed.value;
    else if (parsed.kind === 'invalid') invalid.push(f.name);
  }
  return { values, invalid };
}

/** The Pendo schema's `Type` names that hold each translated type without loss. */
export const PENDO_SCHEMA_TYPES: Readonly<Record<PendoType, readonly string[]>> = {
  string: ['string', 'text'],
  boolean: ['boolean', 'bool'],
  decimal: ['float', 'number', 'decimal', 'double'],
  time: ['time', 'date', 'datetime'],
};

/** Whether a Pendo field of schema type `schemaType` takes values of `pendoType`; a mismatch is a warning. */
export function schemaTypeMatches(pendoType: PendoType, schemaType: string): boolean {
  return PENDO_SCHEMA_TYPES[pendoType].includes(schemaType.toLowerCase());
}
