/** Small HTTP helpers for tests against real host processes. */

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
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
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
