/**
 * The one place where tests and measurements that drive a scratch cluster's hosts over HTTP
 * (test/overload.test.ts, scripts/measure-overload.ts) get the API key they send. Hosts that
 * check keys need `Authorization: Bearer <key>` on everything but /health and /ready.
 */
import type { ScratchCluster } from './scratch-cluster';

/** The key to send to `cluster`'s hosts, or undefined while hosts check no keys. */
export function clusterApiKey(cluster: ScratchCluster): string | undefined {
  // WIRE-API-KEY: once ScratchCluster exposes the dev admin key, return `cluster.adminKey`.
  void cluster;
  return undefined;
}
