// Fixtures the HubSpot → Google Ads workflow tests and the history recorder share: digests that stand in
// for hashed contact data, conversion event definitions, and scripted Google Ads row errors.
import type { FormDefinition, LifecycleDefinition } from '../../src/domain/conversion-events/definitions';
import type { GoogleAdsRowResult } from '../../src/domain/google-ads/types';

export const EMAIL_HASH = '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b';
export const PHONE_HASH = 'd3e0e3b1bd1e1bd7b6c2b5d2b4f8a5cf2d2fb48f0d0a0b4e8c0f6ac02f3b6e11';
export const NAME_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

export function lifecycleDefinition(overrides: Partial<LifecycleDefinition> = {}): LifecycleDefinition {
  return {
    id: 'sql-to-google',
    name: 'SQL to Google Ads',
    enabled: true,
    // 2024-12-31T23:00:00Z: the offset matters for the "before the definition" rule.
    createdAt: '2025-01-01T00:00:00+01:00',
    customerId: '1234567890',
    loginCustomerId: '9876543210',
    value: { type: 'deal_amount', default: 50, currency: 'EUR' },
    consent: { property: 'ads_consent', value: 'true' },
    sharedFields: ['email', 'phone', 'firstName', 'address'],
    contacts: 'all',
    primary: true,
    trigger: {
      type: 'lifecycle_stage',
      stage: 'salesqualifiedlead',
      conversionAction: 'customers/1234567890/conversionActions/555',
    },
    ...overrides,
  };
}

export function formDefinition(overrides: Partial<FormDefinition> = {}): FormDefinition {
  return {
    id: 'demo-request',
    name: 'Demo request form',
    enabled: true,
    createdAt: '2025-01-01T00:00:00+01:00',
    customerId: '1234567890',
    loginCustomerId: '9876543210',
    value: { type: 'custom', amount: 120, currency: 'EUR' },
    sharedFields: ['email', 'phone', 'firstName', 'address'],
    contacts: 'all',
    primary: true,
    trigger: {
      type: 'form_submission',
      formId: 'f0a1b2c3-form',
      conversionAction: 'customers/1234567890/conversionActions/777',
    },
    ...overrides,
  };
}

/** A row that Google Ads answered with one error, as a scripted uploader returns it. */
export const rowError = (category: string, name: string, retryDelayMs?: number): GoogleAdsRowResult => ({
  ok: false,
  errors: [{ category, name, message: `${name} from the scripted uploader`, retryDelayMs }],
});
