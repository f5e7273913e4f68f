// Failure types of HubSpot calls, thrown by the activities and read by workflows (nonRetryableErrorTypes).
export const HubSpotFailure = {
  RateLimited: 'HubSpotRateLimited',
  Transient: 'HubSpotTransient',
  Auth: 'HubSpotAuthError',
  Invalid: 'HubSpotInvalid',
} as const;
export type HubSpotFailureType = (typeof HubSpotFailure)[keyof typeof HubSpotFailure];
export const HUBSPOT_NON_RETRYABLE: string[] = [HubSpotFailure.Invalid];
/** Credentials failures wait this long, so an operator can fix the token or scopes before the work expires. */
export const HUBSPOT_AUTH_RETRY_DELAY_MS = 15 * 60_000;
