/**
 * Reads GET /cluster from a host, for tests that watch membership and leadership change.
 */
import type { EtcdMemberStatus } from '../../coordination/cluster/etcd-members';
import { withApiKey } from './http';

export interface ClusterResponse {
  self: { id: string; isLeader: boolean; registered: boolean };
  hosts: { id: string; url: string; alive: boolean; since: string }[];
  leader: { id: string; url: string; since: string; fencingToken: string } | null;
  etcd: { members: EtcdMemberStatus[] };
}

export async function clusterView(hostUrl: string, timeoutMs = 2500): Promise<ClusterResponse> {
  const response = await fetch(`${hostUrl}/cluster`, {
    headers: withApiKey(undefined),
    signal: AbortSignal.timeout(timeoutMs),
  });
  // The body says why (e.g. a 503 because the API key could not be read from etcd).
  if (!response.ok)
    throw new Error(`${hostUrl}/cluster answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as ClusterResponse;
}

export const liveIds = (view: ClusterResponse) =>
  view.hosts
    .filter((h) => h.alive)
    .map((h) => h.id)
    .sort();

/** Polls `probe` every 50 ms from `since` (performance.now()) and returns the ms elapsed when it first held. */
export async function elapsedUntil(
  what: string,
  since: number,
  probe: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<number> {
  const { performance } = await import('node:perf_hooks');
  while (performance.now() - since < timeoutMs) {
    if (await probe().catch(() => false)) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
