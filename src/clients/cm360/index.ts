export { createCm360Auth, type Cm360AuthProvider, type Cm360Credentials } from './auth';
export {
  Cm360Batcher,
  Cm360BatcherPool,
  createCm360Limiter,
  type Cm360BatcherOptions,
  type Cm360BatcherPoolOptions,
} from './batcher';
export {
  buildBatchUpdateRequest,
  Cm360Client,
  type Cm360BatchUpdateRequest,
  type Cm360ClientOptions,
  type Cm360WireConversion,
} from './client';
export {
  classifyCm360Status,
  Cm360HttpError,
  cm360ErrorFromResponse,
  type Cm360ErrorKind,
  type Cm360HttpErrorInit,
} from './errors';
