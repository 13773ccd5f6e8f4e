/**
 * Offers HTTP load to the function hosts with autocannon: one autocannon instance per host, each
 * with an equal share of the rate and connections, all in this process. Every response's latency
 * and status go to one LatencyRecorder; `onAnswer` sees each answer with the request it belongs to
 * (the load runner uses it to learn which payments were acknowledged).
 *
 * Latency is measured from the moment autocannon sends a request, so under overload it does not
 * include the time a request waited to be sent (coordinated omission); throughput shows overload.
 */
import type { IncomingHttpHeaders } from 'node:http';
import autocannon from 'autocannon';
import { LatencyRecorder, type LoadFigures } from './latency-stats';

export interface PlannedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Statuses that count as success for this request (e.g. [201] or [409]). */
  expect: number[];
  /** Anything the caller wants back in onAnswer. */
  tag?: unknown;
}

export interface HttpLoadOptions {
  /** Host base URLs, e.g. http://127.0.0.1:8081. */
  targets: string[];
  /** Offered requests per second across all hosts; undefined = as fast as the connections go. */
  ratePerSecond?: number;
  /** Connections across all hosts. */
  connections: number;
  durationSeconds: number;
  /** Builds the next request; called once per request sent. */
  next: () => PlannedRequest;
  /** Sees each answer with its request, its latency in ms (as autocannon measured it) and headers. */
  onAnswer?: (
    request: PlannedRequest,
    status: number,
    body: string,
    latencyMs: number,
    headers: IncomingHttpHeaders,
  ) => void;
  /** Sees each request that got no answer (connection error, 10 s timeout). Default none. */
  onRequestError?: (error: Error) => void;
  /** Headers sent with every request, e.g. `authorization` (loadtest/api-key.ts). Default none. */
  headers?: Record<string, string>;
  /** Called about once a second with requests answered so far. */
  onProgress?: (answered: number) => void;
}

interface Ctx {
  planned?: PlannedRequest;
}

export async function runHttpLoad({
  targets,
  ratePerSecond,
  connections,
  durationSeconds,
  next,
  onAnswer,
  onProgress,
  onRequestError,
  headers = {},
}: HttpLoadOptions): Promise<LoadFigures> {
  const recorder = new LatencyRecorder();
  const perTarget = Math.max(1, Math.ceil(connections / targets.length));
  const started = performance.now();
  const ticker = onProgress && setInterval(() => onProgress(recorder.ok + recorder.errors), 1000);
  try {
    await Promise.all(
      targets.map(
        (url) =>
          new Promise<void>((resolve, reject) => {
            let answered:
              | { planned: PlannedRequest; status: number; body: string; headers: IncomingHttpHeaders }
              | undefined;
            const instance = autocannon(
              {
                url,
                connections: perTarget,
                duration: durationSeconds,
                timeout: 10,
                ...(ratePerSecond
                  ? { overallRate: Math.max(1, Math.round(ratePerSecond / targets.length)) }
                  : {}),
                headers: { ...headers, 'content-type': 'application/json' },
                requests: [
                  {
                    setupRequest: (request, context: Ctx) => {
                      const planned = next();
                      context.planned = planned;
                      request.method = planned.method;
                      request.path = planned.path;
                      request.body = planned.body ?? '';
                      return request;
                    },
                    onResponse: (status, body, context: Ctx, responseHeaders) => {
                      const planned = context.planned;
                      recorder.outcome(planned ? planned.expect.includes(status) : false, String(status));
                      // autocannon emits 'response', with the latency, right after this, synchronously.
                      answered = planned && { planned, status, body, headers: responseHeaders ?? {} };
                    },
                  },
                ],
              },
              (error) => (error ? reject(error) : resolve()),
            );
            instance.on('response', (_client, _status, _bytes, responseTime) => {
              recorder.latency(responseTime);
              const a = answered;
              if (onAnswer && a) onAnswer(a.planned, a.status, a.body, responseTime, a.headers);
              answered = undefined;
            });
            instance.on('reqError', (error: Error) => {
              recorder.outcome(false, 'connection error');
              onRequestError?.(error);
            });
          }),
      ),
    );
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return recorder.figures((performance.now() - started) / 1000);
}
