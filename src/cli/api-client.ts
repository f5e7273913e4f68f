// How `relay` commands reach the api (RELAY_API_URL, RELAY_API_KEY): they need no Temporal or vendor
// credentials of their own.
export interface ApiTarget {
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
}

export class ApiCallError extends Error {
  override name = 'ApiCallError';
}

export interface ApiCallOptions {
  body?: { type: string; data: string };
  /** Statuses ≥ 400 the caller handles itself (e.g. 409 for "already running", 400 for row problems). */
  accept?: number[];
}

export async function apiCall<T>(
  api: ApiTarget,
  method: string,
  path: string,
  opts: ApiCallOptions = {},
): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await (api.fetch ?? fetch)(`${api.url.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${api.apiKey}`,
        accept: 'application/json',
        ...(opts.body ? { 'content-type': opts.body.type } : {}),
      },
      ...(opts.body ? { body: opts.body.data } : {}),
    });
  } catch (err) {
    throw new ApiCallError(`the api at ${api.url} did not answer (${(err as Error).message}); is it running?`);
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (res.status >= 400 && !(opts.accept ?? []).includes(res.status)) {
    throw new ApiCallError(`${method} ${path}: HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`);
  }
  return { status: res.status, body };
}
