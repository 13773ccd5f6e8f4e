/**
 * `npm run cluster -- <command>`: operator commands for the local cluster that `npm start` runs.
 *
 *   replace-member <name>   replace an etcd member whose data directory is lost (or corrupt):
 *                           member remove, member add, then start it with
 *                           --initial-cluster-state existing. The new member runs in the
 *                           foreground until Ctrl-C; its data dir is then complete, so a later
 *                           `npm start` simply reuses it.
 *
 * The member layout must match the one `npm start` used (same --data-dir, --etcd-members and
 * ports); the surviving members must hold a quorum. A secured cluster (the default) is reached
 * with the root certificate under <data-dir>/pki; the mode is read from the data directory.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureEtcd } from './cluster/ensure-etcd';
import { defaultMembers, EtcdCluster } from './cluster/etcd-cluster';
import { REPO_ROOT } from './cluster/host-fleet';
import { localEtcdSecurity } from './cluster/local-security';

const HELP = `Usage: npm run cluster -- replace-member <name> [flags]

  --data-dir DIR            as given to npm start            env PAY_DATA_DIR       default .data
  --etcd-members N          members npm start launched       env PAY_ETCD_MEMBERS   default 3
  --etcd-client-ports LIST  client ports, comma-separated    env PAY_ETCD_CLIENT_PORTS default 2379,22379,32379
  --etcd-peer-ports LIST    peer ports, comma-separated      env PAY_ETCD_PEER_PORTS   default client port + 1
  --help                    this text
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'data-dir': { type: 'string' },
    'etcd-members': { type: 'string' },
    'etcd-client-ports': { type: 'string' },
    'etcd-peer-ports': { type: 'string' },
    help: { type: 'boolean' },
  },
});

function fail(message: string): never {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
}

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const [command, name] = positionals;
if (command !== 'replace-member' || !name) fail('expected: replace-member <name>');

const env = process.env;
const dataDir = resolve(REPO_ROOT, values['data-dir'] ?? env.PAY_DATA_DIR ?? '.data');
const count = Number(values['etcd-members'] ?? env.PAY_ETCD_MEMBERS ?? 3);
if (!Number.isInteger(count) || count < 1 || count > 9) fail(`--etcd-members must be 1 to 9, got ${count}`);
const clientPorts = (values['etcd-client-ports'] ?? env.PAY_ETCD_CLIENT_PORTS)?.split(',').map(Number);
const peerPorts = (values['etcd-peer-ports'] ?? env.PAY_ETCD_PEER_PORTS)?.split(',').map(Number);
// The same layout as npm start's (dev/start.ts): peer port client + 1 unless given, metrics client + 2.
const members = defaultMembers(count).map((m, i) => {
  const clientPort = clientPorts?.[i] ?? m.clientPort;
  return { ...m, clientPort, peerPort: peerPorts?.[i] ?? clientPort + 1, metricsPort: clientPort + 2 };
});
if (!members.some((m) => m.name === name))
  fail(`no member named ${name}; members: ${members.map((m) => m.name).join(', ')}`);

const pki = await localEtcdSecurity({ dataDir, members: members.map((m) => m.name) });
const cluster = new EtcdCluster({ binary: ensureEtcd(), dir: dataDir, members, pki });
const started = Date.now();
try {
  const fresh = await cluster.replaceMember(name, { log: (line) => console.log(line) });
  console.log(
    `${name} replaced and healthy in ${Date.now() - started} ms (pid ${fresh.process.pid}, log ${dataDir}/${name}.log)`,
  );
  console.log(
    'it runs in the foreground: Ctrl-C stops it; its data dir is complete, so npm start can reuse it.',
  );
  const stop = () => void fresh.process.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await fresh.process.whenExited();
} catch (error) {
  console.error(`replace-member failed: ${(error as Error).message}`);
  process.exit(1);
}
