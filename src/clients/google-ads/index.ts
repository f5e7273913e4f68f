export {
  createGoogleAdsLimiter,
  GoogleAdsBatcher,
  GoogleAdsBatcherPool,
  type GoogleAdsBatcherOptions,
  type GoogleAdsBatcherPoolOptions,
  type GoogleAdsLimiterOptions,
  type GoogleAdsRowOf,
  type GoogleAdsUploadClient,
  type GoogleAdsUploadService,
} from './batcher';
export {
  callConversionRowProblem,
  clickConversionRowProblem,
  enhancementRowProblem,
  gaqlString,
  GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS,
  GoogleAdsConversionClient,
  toCallConversion,
  toClickConversion,
  toConversionAdjustment,
  type GoogleAdsConversionClientOptions,
} from './client';
export {
  googleAdsRequestErrorFromErrors,
  googleAdsRequestErrorFromStatus,
  GoogleAdsRequestError,
  GRPC_STATUS_NAMES,
  kindForGoogleAdsErrors,
  kindForGrpcStatus,
  redactGoogleAdsMessage,
  type GoogleAdsRequestErrorInit,
  type GoogleAdsRequestErrorKind,
} from './errors';
