// The emulators, loaded on first use: `relay api` and `relay worker` import the CLI and the dev stack, and must
// never load the emulators' Fastify apps, gRPC server or the Google Ads protos. A dynamic `import()` would be an
// ES module import under module node16 (extensions required, CommonJS interop); a typed require stays CommonJS,
// and the type-only imports below are erased.
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Cm360 from './cm360';
import type * as GoogleAds from './google-ads';
import type * as HubSpot from './hubspot';
import type * as Pendo from './pendo';

export const loadCm360Emulator = () => require('./cm360') as typeof Cm360;
export const loadHubSpotEmulator = () => require('./hubspot') as typeof HubSpot;
export const loadGoogleAdsEmulator = () => require('./google-ads') as typeof GoogleAds;
export const loadPendoEmulator = () => require('./pendo') as typeof Pendo;
