/**
 * What the hosts' etcd credential (payments-host) can do outside its role on the etcd binary in
 * use (ETCD_BIN): Status, alarm list/raise/clear, move-leader, defragment, user list, and whether
 * a write outside the role goes through while a NOSPACE alarm is raised (issue 17 §5). Starts a
 * scratch cluster, prints one line per probe, and stops it.
 */
import { execFileSync } from 'node:child_process';
import { AlarmAction, AlarmType } from 'etcd3';
import { HOST_USER } from './cluster/certificates';
import { ensureEtcd } from './cluster/ensure-etcd';
import { startScratchCluster } from './cluster/scratch-cluster';

const version = execFileSync(ensureEtcd({ log: () => {} }), ['--version'])
  .toString()
  .split('\n')[0];
const cluster = await startScratchCluster({ dirPrefix: 'payments-probe-' });
const probe = async (what: string, call: () => Promise<unknown>) => {
  try {
    await call();
    console.log(`${what}: allowed`);
  } catch (error) {
    console.log(`${what}: refused (${(error as Error).message.split('\n')[0]})`);
  }
};
try {
  console.log(`credential ${HOST_USER} on ${version}`);
  const host = cluster.client({ as: HOST_USER, callDeadlineMs: 5000 });
  const root = cluster.client({ callDeadlineMs: 5000 });
  const status = await root.maintenance.status();
  const memberID = status.header.member_id;
  const raise = (client: typeof root) =>
    client.maintenance.alarm({ action: AlarmAction.Activate, memberID, alarm: AlarmType.Nospace });
  const clear = (client: typeof root) =>
    client.maintenance.alarm({ action: AlarmAction.Deactivate, memberID, alarm: AlarmType.Nospace });
  const alarmed = async () =>
    (await root.maintenance.alarm({ action: AlarmAction.Get, memberID: '0', alarm: AlarmType.None })).alarms
      .length > 0;
  await probe('status', () => host.maintenance.status());
  await probe('alarm list', () =>
    host.maintenance.alarm({ action: AlarmAction.Get, memberID: '0', alarm: AlarmType.None }),
  );
  await probe('move-leader', () => host.maintenance.moveLeader({ targetID: memberID }));
  await probe('defragment', () => host.maintenance.defragment());
  await probe('delete outside the role, no alarm', () => host.delete().key('/outside-the-role').exec());
  await probe('grant itself root, no alarm', () => host.user(HOST_USER).addRole('root'));
  await probe('alarm raise NOSPACE', () => raise(host));
  console.log(`alarm raised after the host's call: ${await alarmed()}`);
  if (!(await alarmed())) await raise(root);
  await probe('alarm clear', () => clear(host));
  console.log(`alarm still raised after the host's clear: ${await alarmed()}`);
  if (!(await alarmed())) await raise(root);
  await probe('delete outside the role under NOSPACE', () => host.delete().key('/outside-the-role').exec());
  await probe('grant itself root under NOSPACE', () => host.user(HOST_USER).addRole('root'));
  await clear(root);
  await probe('user list, after', () => host.getUsers());
} finally {
  await cluster.stop();
}
