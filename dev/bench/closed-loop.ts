/**
 * A closed-loop load generator for direct etcd calls: `concurrency` workers, each issuing the
 * next operation as soon as its previous one returns, for a fixed time.
 */
import { LatencyRecorder, type LoadFigures } from '../../loadtest/latency-stats';

export async function runClosedLoop(
  concurrency: number,
  durationSeconds: number,
  operation: (n: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<LoadFigures> {
  const recorder = new LatencyRecorder();
  const started = performance.now();
  const end = started + durationSeconds * 1000;
  let n = 0;
  const ticker = onProgress && setInterval(() => onProgress(recorder.ok + recorder.errors), 1000);
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const cause = await operation(n++).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.name : 'error'),
      );
      recorder.record(performance.now() - t0, cause === undefined, cause);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return recorder.figures((performance.now() - started) / 1000);
}
