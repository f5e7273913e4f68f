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
  clickConversionRowProblem,
  enhancementRowProblem,
  GoogleAdsConversionClient,
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
