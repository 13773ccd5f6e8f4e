/**
 * One sample of an etcd member's Prometheus metrics, read from its plain-http metrics listener
 * (EtcdMemberSpec.metricsPort), for tests that check what etcd itself counts.
 */
import type { EtcdMember } from '../../dev/cluster/etcd-cluster';

/** The value of the unlabelled metric `name` (e.g. `etcd_server_quota_backend_bytes`); NaN when absent. */
export async function etcdMetric(member: EtcdMember, name: string): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${member.spec.metricsPort}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}
