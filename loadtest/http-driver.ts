/**
 * Offers HTTP load to the function hosts with autocannon: one autocannon instance per host, each
 * with an equal share of the rate and connections, all in this process. Every response's latency
 * and status go to one LatencyRecorder; `onAnswer` sees each answer with the request it belongs to
 * (the load runner uses it to learn which payments were acknowledged).
 *
 * Latency is measured from the moment autocannon sends a request, so under overload it does not
 * include the time a request waited to be sent (coordinated omission); throughput shows overload.
 */
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
  onAnswer?: (request: PlannedRequest, status: number, body: string) => void;
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
            const instance = autocannon(
              {
                url,
                connections: perTarget,
                duration: durationSeconds,
                timeout: 10,
                ...(ratePerSecond
                  ? { overallRate: Math.max(1, Math.round(ratePerSecond / targets.length)) }
                  : {}),
                headers: { 'content-type': 'application/json' },
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
                    onResponse: (status, body, context: Ctx) => {
                      const planned = context.planned;
                      recorder.outcome(planned ? planned.expect.includes(status) : false);
                      if (onAnswer && planned) onAnswer(planned, status, body);
                    },
                  },
                ],
              },
              (error) => (error ? reject(error) : resolve()),
            );
            instance.on('response', (_client, _status, _bytes, responseTime) =>
              recorder.latency(responseTime),
            );
            instance.on('reqError', () => recorder.outcome(false));
          }),
      ),
    );
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return recorder.figures((performance.now() - started) / 1000);
}
