/**
 * Small HTTP helpers for tests against real host processes.
 *
 * Every request carries this test file's API key (`useApiKey`; startTestCluster sets its cluster's
 * admin key) unless it sets its own Authorization header, or `authorization: ''` to send none.
 * vitest gives each test file its own module instance, so the key never leaks across files.
 */
let defaultApiKey: string | undefined;

export function useApiKey(key: string | undefined): void {
  defaultApiKey = key;
}

/** Headers with this file's API key added, unless they name an Authorization of their own. */
export function withApiKey(headers: RequestInit['headers']): Headers {
  const result = new Headers(headers);
  if (!result.has('authorization') && defaultApiKey) result.set('authorization', `Bearer ${defaultApiKey}`);
  else if (result.get('authorization') === '') result.delete('authorization');
  return result;
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export async function request<T = unknown>(
  url: string,
  init: RequestInit = {},
  timeoutMs = 15_000,
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    ...init,
    headers: withApiKey(init.headers),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: body as T };
}

export function postPayment(baseUrl: string, payment: unknown, headers: Record<string, string> = {}) {
  return request(`${baseUrl}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payment),
  });
}
