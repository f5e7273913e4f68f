// Access tokens for the CM360 API. google-auth-library caches and refreshes tokens itself, so one
// provider is created per process and asked for a header before every request.
import { GoogleAuth, OAuth2Client, type JWTInput } from 'google-auth-library';
import { CM360_SCOPE } from '../../domain/cm360/types';

export type Cm360Credentials =
  | { type: 'service-account'; keyFile?: string; keyJson?: string }
  | { type: 'oauth-refresh-token'; clientId: string; clientSecret: string; refreshToken: string }
  /** A fixed token, meant for the local emulator; it is never refreshed. */
  | { type: 'access-token'; accessToken: string };

export interface Cm360AuthProvider {
  /** The full header value, `Bearer <token>`. */
  authorizationHeader(): Promise<string>;
}

function bearer(token: string | null | undefined): string {
  if (!token) throw new Error('the credentials produced no access token');
  return `Bearer ${token}`;
}

export function createCm360Auth(c: Cm360Credentials): Cm360AuthProvider {
  switch (c.type) {
    case 'service-account': {
      if (!c.keyFile && !c.keyJson) throw new Error('a CM360 service account needs keyFile or keyJson');
      const auth = new GoogleAuth({
        scopes: [CM360_SCOPE],
        ...(c.keyJson ? { credentials: parseKeyJson(c.keyJson) } : { keyFile: c.keyFile }),
      });
      return { authorizationHeader: async () => bearer(await auth.getAccessToken()) };
    }
    case 'oauth-refresh-token': {
      const client = new OAuth2Client({ clientId: c.clientId, clientSecret: c.clientSecret });
      client.setCredentials({ refresh_token: c.refreshToken });
      return { authorizationHeader: async () => bearer((await client.getAccessToken()).token) };
    }
    case 'access-token': {
      const header = bearer(c.accessToken);
      return { authorizationHeader: () => Promise.resolve(header) };
    }
  }
}

function parseKeyJson(keyJson: string): JWTInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(keyJson);
  } catch {
    // The parser's message can quote the key material, so it is not passed on.
    throw new Error('the CM360 service account key JSON is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error('the CM360 service account key JSON is not an object');
  return parsed;
}
