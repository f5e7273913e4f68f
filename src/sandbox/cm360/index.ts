export {
  startCm360Emulator,
  type Cm360ConversionKeyFields,
  type Cm360ConversionRecord,
  type Cm360ConversionsSummary,
  type Cm360Emulator,
  type Cm360EmulatorOptions,
  type Cm360RowRecord,
  type RecordedRequest,
} from './emulator';
