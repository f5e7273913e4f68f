// A conversion as a Floodlight tag's batchupdate row carries it, for the tests that talk to the CM360 emulator.
export const batchupdateConversion = (ordinal: string) => ({
  matchId: `m-${ordinal}`,
  ordinal,
  timestampMicros: String(BigInt(Date.now() - 3_600_000) * 1000n),
  floodlightActivityId: '8888',
  floodlightConfigurationId: '99999',
  quantity: '1',
  value: 10,
});
