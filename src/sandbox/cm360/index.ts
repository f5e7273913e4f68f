export {
  cm360FaultSchema,
  startCm360Emulator,
  type Cm360ConversionKeyFields,
  type Cm360Emulator,
  type Cm360EmulatorOptions,
  type Cm360Fault,
  type RecordedRequest,
} from './emulator';
