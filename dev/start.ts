/**
 * `npm start`: the local cluster in the foreground. Three etcd members, three function hosts and
 * the archive's PostgreSQL (a primary and its synchronous standby, dev/cluster/postgres-cluster.ts)
 * on loopback, data under .data/, stopped cleanly on Ctrl-C or SIGTERM. With --archive-url it
 * starts no PostgreSQL and hands the hosts that URL instead.
 *
 * With --etcd-endpoints it runs only the function hosts, against an etcd cluster you run
 * elsewhere (single-host mode). `npm start -- --help` lists every flag; each has an environment
 * variable too.
 *
 * etcd is secured by default: TLS and client certificates on every link, RBAC with a host role
 * confined to the ledger root (certificates under <data-dir>/pki). --insecure-etcd runs it plain,
 * for debugging with curl or etcdctl without certificates.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEtcdClient } from '../coordination/etcd/etcd-client';
import { EtcdApiKeyStore } from '../functions/auth/etcd-api-key-store';
import { DEFAULT_HOT_WINDOW, parseDuration } from '../functions/config';
import { HOST_USER, ROOT_USER, readTlsFiles } from './cluster/certificates';
import { prepareDataDir, prepareEtcdRelease } from './cluster/data-dir-version';
import { adminKeyNotice, DEV_ADMIN_KEY_FILE, ensureDevAdminKey } from './cluster/dev-admin-key';
import { ensureEtcd, etcdRelease } from './cluster/ensure-etcd';
import { ensurePostgres } from './cluster/ensure-postgres';
import { DEFAULT_ETCD_QUOTA_BYTES, defaultMembers, EtcdCluster } from './cluster/etcd-cluster';
import { freeUdpPort } from './cluster/free-udp-port';
import { hostAccount, installHostCredentials } from './cluster/host-credentials';
import { defaultHosts, HostFleet, REPO_ROOT } from './cluster/host-fleet';
import { ensureChrony, LocalChrony } from './cluster/local-chrony';
import { type LocalControl, startLocalControl } from './cluster/local-control';
import { localEtcdSecurity } from './cluster/local-security';
import { PostgresCluster } from './cluster/postgres-cluster';

const HELP = `Usage: npm start -- [flags]

  --data-dir DIR            etcd data and logs                 env PAY_DATA_DIR        default .data
  --etcd-members N          etcd members to launch             env PAY_ETCD_MEMBERS    default 3
  --etcd-client-ports LIST  client ports, comma-separated      env PAY_ETCD_CLIENT_PORTS default 2379,22379,32379
  --etcd-peer-ports LIST    peer ports, comma-separated        env PAY_ETCD_PEER_PORTS   default client port + 1
                            (etcd health/metrics listen on plain http at client port + 2)
  --insecure-etcd           etcd without TLS, client certs     env PAY_INSECURE_ETCD=1  default secured
                            and RBAC (debugging only; fixed
                            when the data dir is created)
  --etcd-quota-bytes N      etcd backend quota (NOSPACE past   env PAY_ETCD_QUOTA_BYTES default 8589934592
                            it), --quota-backend-bytes                                 (8 GiB)
                            etcd release: 3.4 (the system's)   env PAY_ETCD_VERSION    default 3.4
                            or 3.5 (3.5.30, fetched into
                            .cache/; backs the members up
                            before it first opens them)
  --archive-url URL         use this PostgreSQL (host role)    env PAY_ARCHIVE_URL     default none: launch a
                            for the archive; TLS unless                                local primary and
                            on loopback                                                synchronous standby
                                                                                       under <data-dir>/postgres
  --ledger-hot-window DUR   payments younger than this stay    env PAY_LEDGER_HOT_WINDOW default ${DEFAULT_HOT_WINDOW}
                            in etcd; the leader archives
                            older ones (20s, 15m, 24h)
  --hosts N                 function hosts to launch           env PAY_HOSTS           default 3
  --host-ports LIST         host HTTP ports, comma-separated   env PAY_HOST_PORTS      default 8081,8082,8083
  --etcd-endpoints LIST     use this external etcd cluster     env PAY_ETCD_ENDPOINTS  (single-host mode:
                            instead of launching members                               no etcd is started)
  --clock-offsets LIST      simulated clock offset per host,   env PAY_CLOCK_OFFSETS   default 0 each
                            ms, e.g. -2000,0,1500
  --clock-drift-ppm LIST    simulated clock drift per host,    env PAY_CLOCK_DRIFT_PPM default 0 each
                            ppm, e.g. 200,-150,0
  --ntp-servers LIST        NTP servers (host:port,...) the    env PAY_NTP_SERVERS     default: launch chrony
                            time master disciplines its clock                          on 127.0.0.1:11123 (or a free
                            against                                                     UDP port), serving this
                                                                                        machine's clock
  (as root, hosts run as the account in PAY_HOST_ACCOUNT, default nobody, with only their own
   etcd certificate, key and the CA certificate, copied to <data-dir>/host-credentials)
  --help                    this text
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'etcd-members': { type: 'string' },
    'etcd-client-ports': { type: 'string' },
    'etcd-peer-ports': { type: 'string' },
    'etcd-quota-bytes': { type: 'string' },
    'archive-url': { type: 'string' },
    'ledger-hot-window': { type: 'string' },
    hosts: { type: 'string' },
    'host-ports': { type: 'string' },
    'etcd-endpoints': { type: 'string' },
    'insecure-etcd': { type: 'boolean' },
    'clock-offsets': { type: 'string' },
    'clock-drift-ppm': { type: 'string' },
    'ntp-servers': { type: 'string' },
    help: { type: 'boolean' },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const env = process.env;
const setting = (flag: keyof typeof values, variable: string): string | undefined =>
  (values[flag] as string | undefined) ?? env[variable];

function count(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 9) fail(`${what} must be an integer from 1 to 9, got ${text}`);
  return n;
}

function ports(text: string | undefined, expected: number, what: string): number[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map(Number);
  if (list.length !== expected || list.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    fail(`${what} must list ${expected} ports, got ${text}`);
  }
  return list;
}

/** One number per host, each within ±limit. */
function numbers(
  text: string | undefined,
  expected: number,
  what: string,
  limit: number,
): number[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length !== expected || list.some((n) => !Number.isFinite(n) || Math.abs(n) > limit)) {
    fail(`${what} must list ${expected} numbers (one per host) within ±${limit}, got ${text}`);
  }
  return list;
}

/** A URL fit to print: its password replaced. */
function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function fail(message: string): never {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
}

const dataDir = resolve(REPO_ROOT, setting('data-dir', 'PAY_DATA_DIR') ?? '.data');
const externalEndpoints = setting('etcd-endpoints', 'PAY_ETCD_ENDPOINTS')
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const memberCount = count(setting('etcd-members', 'PAY_ETCD_MEMBERS'), 3, '--etcd-members');
const hostCount = count(setting('hosts', 'PAY_HOSTS'), 3, '--hosts');

let members = defaultMembers(memberCount);
const clientPorts = ports(
  setting('etcd-client-ports', 'PAY_ETCD_CLIENT_PORTS'),
  memberCount,
  '--etcd-client-ports',
);
const peerPorts = ports(setting('etcd-peer-ports', 'PAY_ETCD_PEER_PORTS'), memberCount, '--etcd-peer-ports');
members = members.map((m, i) => {
  const clientPort = clientPorts?.[i] ?? m.clientPort;
  return { ...m, clientPort, peerPort: peerPorts?.[i] ?? clientPort + 1, metricsPort: clientPort + 2 };
});
const hostPorts = ports(setting('host-ports', 'PAY_HOST_PORTS'), hostCount, '--host-ports');
const clockOffsets = numbers(
  setting('clock-offsets', 'PAY_CLOCK_OFFSETS'),
  hostCount,
  '--clock-offsets',
  86_400_000,
);
const clockDrifts = numbers(
  setting('clock-drift-ppm', 'PAY_CLOCK_DRIFT_PPM'),
  hostCount,
  '--clock-drift-ppm',
  100_000,
);
const quotaText = setting('etcd-quota-bytes', 'PAY_ETCD_QUOTA_BYTES');
const quotaBytes = quotaText === undefined ? DEFAULT_ETCD_QUOTA_BYTES : Number(quotaText);
if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 1024 ** 2) {
  fail(`--etcd-quota-bytes must be a whole number of bytes, at least 1 MiB, got ${quotaText}`);
}
const externalArchiveUrl = setting('archive-url', 'PAY_ARCHIVE_URL');
if (externalArchiveUrl !== undefined && !/^postgres(ql)?:\/\/[^/]+/.test(externalArchiveUrl)) {
  fail(`--archive-url must be a postgres:// URL, got ${externalArchiveUrl}`);
}
// Before anything starts, chrony's directory included (a new data dir holding only that would
// read as version 1 and be "migrated"): the data dir's version, and a backup of a data dir from before the
// archive (dev/cluster/data-dir-version.ts).
// Then the etcd release: members a newer etcd is about to open are backed up first, since an older
// one cannot read them afterwards.
const etcdBinary = externalEndpoints ? undefined : ensureEtcd();
try {
  prepareDataDir({
    dataDir,
    members: externalEndpoints ? [] : members.map((m) => m.name),
    log: (line) => console.log(line),
  });
  if (etcdBinary) {
    prepareEtcdRelease({
      dataDir,
      members: members.map((m) => m.name),
      release: etcdRelease(etcdBinary),
      log: (line) => console.log(line),
    });
  }
} catch (error) {
  fail((error as Error).message);
}
const ntpServers = setting('ntp-servers', 'PAY_NTP_SERVERS');
// Without --ntp-servers, chrony on loopback is the reference (issue 16); without chrony either,
// the hosts fall back to internal agreement, and say so in /cluster and /metrics.
let chrony: LocalChrony | undefined;
if (!ntpServers) {
  try {
    // 11123 when free; another UDP port when not (a second launcher, or anything else on it).
    const port = await freeUdpPort(11_123);
    chrony = new LocalChrony({ binary: ensureChrony(), dir: join(dataDir, 'chrony'), port });
  } catch (error) {
    console.warn(`warning: no NTP reference: ${(error as Error).message}`);
  }
}
const ntpEnv = ntpServers ?? chrony?.address;
const hotWindow = setting('ledger-hot-window', 'PAY_LEDGER_HOT_WINDOW') ?? DEFAULT_HOT_WINDOW;
if (parseDuration(hotWindow) === undefined) {
  fail(`--ledger-hot-window must be a duration such as 20s, 15m or 24h, got ${hotWindow}`);
}
const hostList = defaultHosts(hostCount).map((h, i) => ({ ...h, port: hostPorts?.[i] ?? h.port }));

// The archive's PostgreSQL first: the hosts are handed its URL (ARCHIVE_URL, functions/config.ts).
const postgres = externalArchiveUrl
  ? undefined
  : new PostgresCluster({
      binDir: ensurePostgres(),
      dir: join(dataDir, 'postgres'),
      log: (line) => console.log(`postgres: ${line}`),
    });
if (postgres) {
  console.log(
    `starting PostgreSQL primary and synchronous standby (data in ${join(dataDir, 'postgres')}) ...`,
  );
  try {
    await postgres.start();
  } catch (error) {
    console.error(
      `PostgreSQL start-up failed: ${(error as Error).message}; logs are in ${join(dataDir, 'postgres')}`,
    );
    await postgres.stop();
    process.exit(1);
  }
}
const archiveUrl = externalArchiveUrl ?? postgres!.urls().host;
const hosts = hostList.map((h, i) => ({
  ...h,
  env: {
    CLOCK_OFFSET_MS: String(clockOffsets?.[i] ?? 0),
    CLOCK_DRIFT_PPM: String(clockDrifts?.[i] ?? 0),
    ARCHIVE_URL: archiveUrl,
    ...(ntpEnv ? { NTP_SERVERS: ntpEnv } : {}),
    // The quota guard (coordination/cluster/quota-guard.ts) must know what etcd was given; with
    // --etcd-endpoints the hosts take ETCD_QUOTA_BYTES from this environment instead.
    ...(externalEndpoints ? {} : { ETCD_QUOTA_BYTES: String(quotaBytes) }),
    LEDGER_HOT_WINDOW: hotWindow,
  },
}));

const insecure = values['insecure-etcd'] === true || env.PAY_INSECURE_ETCD === '1';
// With --etcd-endpoints the hosts take ETCD_CA_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE from the environment.
const pki = externalEndpoints
  ? undefined
  : await localEtcdSecurity({
      dataDir,
      members: members.map((m) => m.name),
      want: insecure ? 'plain' : 'secured',
    }).catch((error: Error) => fail(error.message));
const etcd = externalEndpoints
  ? undefined
  : new EtcdCluster({ binary: etcdBinary!, dir: dataDir, members, pki, quotaBytes });
const endpoints = externalEndpoints ?? etcd!.clientUrls();
// Hosts get only the files they use; as root, they run as an account that cannot read the PKI.
const account = hostAccount(env.PAY_HOST_ACCOUNT);
const fleet = new HostFleet({
  hosts,
  etcdEndpoints: endpoints,
  logDir: dataDir,
  etcdTls: pki && installHostCredentials(pki.user(HOST_USER), join(dataDir, 'host-credentials'), account),
  account,
});

let stopping = false;
let control: LocalControl | undefined;
async function stopAll(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  control?.close();
  console.log(`\n${reason}: stopping hosts, then etcd and PostgreSQL ...`);
  await fleet.stop();
  await Promise.all([etcd?.stop(), postgres?.stop(), chrony?.stop()]);
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));
// Started in the background and its parent (npm, a shell, a supervisor) killed: nobody is left to
// send the signal, and the cluster would run on, orphaned. Re-parenting is the sign; stop then.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stopAll(`parent process ${parentPid} exited`);
}, 1000).unref();

let adminKey = { key: '', issued: false };
/** The local cluster's admin key (dev/cluster/dev-admin-key.ts), reused across restarts. */
async function issueLocalAdminKey(): Promise<{ key: string; issued: boolean }> {
  // As the hosts' own etcd user: key records live under the ledger root, which its role covers.
  // External etcd: the same ETCD_* credentials the hosts inherit from this environment.
  const files = pki?.user(HOST_USER);
  const tls = files
    ? readTlsFiles(files)
    : env.ETCD_CA_FILE
      ? { ca: env.ETCD_CA_FILE, cert: env.ETCD_CERT_FILE, key: env.ETCD_KEY_FILE }
      : undefined;
  const client = createEtcdClient({ endpoints, callDeadlineMs: 5000, tls });
  try {
    return await ensureDevAdminKey(new EtcdApiKeyStore(client), dataDir, new Date().toISOString());
  } finally {
    client.close();
  }
}

try {
  if (etcd) {
    const security = pki
      ? `secured: TLS, client certificates and RBAC, certificates in ${pki.dir}`
      : 'INSECURE';
    console.log(`starting ${members.length} etcd members (data in ${dataDir}; ${security}) ...`);
    await etcd.start();
  }
  if (chrony) {
    console.log(`starting chronyd on ${chrony.address} (NTP reference; the system clock is left alone) ...`);
    chrony.start();
  }
  adminKey = await issueLocalAdminKey();
  console.log(`starting ${hosts.length} function hosts ...`);
  await fleet.start();
} catch (error) {
  console.error(`start-up failed: ${(error as Error).message}; logs are in ${dataDir}`);
  await stopAll('start-up failed');
}
// pids and ports for `payctl kill|restart` (dev/cluster/local-control.ts)
const rootFiles = pki?.user(ROOT_USER);
control = await startLocalControl({
  etcd,
  fleet,
  dataDir,
  etcdEndpoints: endpoints,
  etcdRootCredentials: rootFiles && {
    ca: rootFiles.caFile,
    cert: rootFiles.certFile,
    key: rootFiles.keyFile,
  },
});

const rows = [
  ...(etcd?.members.map((m) => ({
    what: `etcd ${m.name}`,
    pid: m.process.pid,
    address: m.clientUrl,
    detail: `peer ${m.peerUrl}, data ${m.dataDir}`,
  })) ?? endpoints.map((url) => ({ what: 'etcd (external)', pid: undefined, address: url, detail: '' }))),
  ...(postgres
    ? [postgres.primary, postgres.standby!].map((server, i) => ({
        what: `postgres ${server.name} (${i === 0 ? 'primary' : 'synchronous standby'})`,
        pid: server.process.pid,
        address: `postgres://127.0.0.1:${server.port}/${postgres.database}`,
        detail: `data ${server.dataDir}, log ${server.dataDir}.log`,
      }))
    : [{ what: 'postgres (external)', pid: undefined, address: redactPassword(archiveUrl), detail: '' }]),
  ...(chrony
    ? [
        {
          what: 'chronyd (NTP)',
          pid: chrony.process.pid,
          address: chrony.address,
          detail: `udp, ${dataDir}/chrony`,
        },
      ]
    : []),
  ...fleet.hosts.map((h) => ({
    what: `host ${h.id}`,
    pid: h.process.pid,
    address: h.url,
    detail: `log ${dataDir}/${h.id}.log`,
  })),
];
console.table(rows);
const adminKeyFile = join(dataDir, DEV_ADMIN_KEY_FILE);
console.log(`archive: the hosts get ARCHIVE_URL=${redactPassword(archiveUrl)}${postgres ? ` (passwords in ${join(dataDir, 'postgres', 'cluster.json')})` : ''}
${adminKeyNotice({ ...adminKey, file: adminKeyFile, terminal: process.stdout.isTTY === true })}
ready: try  curl -s ${fleet.hosts[0]?.url}/ready
       and  curl -s -H "Authorization: Bearer $(cat ${adminKeyFile})" ${fleet.hosts[0]?.url}/cluster
(Ctrl-C stops everything)`);

const watched = [
  ...(etcd?.members.map((m) => m.process) ?? []),
  ...(postgres ? [postgres.primary.process, postgres.standby!.process] : []),
  ...fleet.hosts.map((h) => h.process),
];
for (const p of watched) {
  void p.whenExited().then(() => {
    if (!stopping) console.log(`${p.name} exited; the rest keeps running`);
  });
}
