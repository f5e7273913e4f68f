// Failure types of the Google Ads activities: thrown by src/activities (ApplicationFailure.type) and branched on
// by workflows (nonRetryableErrorTypes, reasons), so both import them from here.
export const GoogleAdsFailure = {
  Transient: 'GoogleAdsTransient',
  Quota: 'GoogleAdsQuota',
  Auth: 'GoogleAdsAuthError',
  InvalidRequest: 'GoogleAdsInvalidRequest',
  Permanent: 'GoogleAdsPermanentError',
  RetryWindowExpired: 'GoogleAdsRetryWindowExpired',
  DeadlineExceeded: 'GoogleAdsEnhancementDeadlineExceeded',
  NotConfigured: 'GoogleAdsNotConfigured',
} as const;

export const GOOGLE_ADS_NON_RETRYABLE = [GoogleAdsFailure.InvalidRequest];
