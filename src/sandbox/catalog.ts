// Every emulator's fault vocabulary in one place, for `relay sandbox fault|faults` and the `npm start` banner:
// zod schemas and one line per fault, without loading any emulator's server (Fastify routes, gRPC, protos).
import type { z } from 'zod';
import { CM360_FAULTS, cm360FaultSchema } from './cm360/faults';
import { GOOGLE_ADS_FAULTS, googleAdsFaultSchema } from './google-ads/faults';
import { HUBSPOT_FAULTS, hubSpotFaultSchema } from './hubspot/faults';
import { PENDO_FAULTS, pendoFaultSchema } from './pendo/faults';

export const SANDBOX_EMULATORS = ['cm360', 'hubspot', 'google-ads', 'pendo'] as const;
export type SandboxEmulatorName = (typeof SANDBOX_EMULATORS)[number];

export interface SandboxEmulatorFaults {
  title: string;
  /** What PUT /_sandbox/fault accepts (the emulator validates with the same schema). */
  schema: z.ZodType<{ type: string; times?: number }>;
  /** Fault type → one line: what a request meets while it is set, and its options (`key=value`). */
  faults: Record<string, string>;
}

export const SANDBOX_FAULTS: Record<SandboxEmulatorName, SandboxEmulatorFaults> = {
  cm360: { title: 'CM360', schema: cm360FaultSchema, faults: CM360_FAULTS },
  hubspot: { title: 'HubSpot', schema: hubSpotFaultSchema, faults: HUBSPOT_FAULTS },
  'google-ads': { title: 'Google Ads', schema: googleAdsFaultSchema, faults: GOOGLE_ADS_FAULTS },
  pendo: { title: 'Pendo', schema: pendoFaultSchema, faults: PENDO_FAULTS },
};

/** The Google Ads emulator's HTTP control port, when not chosen: its gRPC port plus this (8091 → 9091). */
export const GOOGLE_ADS_CONTROL_PORT_OFFSET = 1000;

export const isSandboxEmulator = (name: string | undefined): name is SandboxEmulatorName =>
  (SANDBOX_EMULATORS as readonly string[]).includes(name ?? '');
