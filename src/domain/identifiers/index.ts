export * from './types';
export * from './normalize';
export * from './hash';
export * from './schema';
