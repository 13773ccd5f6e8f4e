/**
 * The etcd key layout of coordination: every key of membership, the leader election,
 * maintenance and the cluster event log is built here and nowhere else. The keys live under the
 * ledger's root (ledger/etcd/key-layout.ts), so one root, `/pay/v2` by default, holds a cluster.
 *
 *   <root>/hosts/<hostId>                one per live function host, attached to its membership
 *       value: HostRecord JSON ({ id, url, since, version }); the lease's expiry deletes it.
 *   <root>/election/leader/<leaseId>     etcd3 Election campaign keys, one per candidate, on the
 *       candidate's lease; the lowest create_revision leads, and that revision is its fencing token.
 *   <root>/meta/retention                compaction retention policy JSON (ledger-maintenance.ts)
 *   <root>/meta/maintenance              the leader's last maintenance record, written fenced
 *   <root>/events/log/<host>/<hlc>/<seq> one cluster event (coordination/events/etcd-event-store.ts); hlc
 *                                        is fixed-width, so each host's events sort in HLC order
 *   <root>/events/marks/<host>           the host's event shipping mark (HostMark JSON)
 */
import { DEFAULT_ROOT, keyBase } from '../../ledger/etcd/key-layout';

export interface CoordinationKeys {
  /** Membership key of one function host. */
  host(id: string): string;
  /** Prefix of every membership key. */
  hostsPrefix(): string;
  /** Namespace prefix handed to etcd3 (`client.namespace(...)`) under which the election lives. */
  coordinationNamespace(): string;
  /** The compaction retention policy. */
  retentionPolicy(): string;
  /** The leader's last maintenance record. */
  maintenanceRecord(): string;
  /** Key of one cluster event. */
  event(host: string, hlc: string, seq: number): string;
  /** Prefix of one host's event stream. */
  eventsOfHost(host: string): string;
  /** Key of one host's event shipping mark. */
  eventMark(host: string): string;
  /** Prefix of every shipping mark. */
  eventMarksPrefix(): string;
}

/** Name of the host leader election inside the coordination namespace: keys `election/<name>/<leaseId>`. */
export const LEADER_ELECTION_NAME = 'leader';

export function coordinationKeys(root: string = DEFAULT_ROOT): CoordinationKeys {
  const base = keyBase(root);
  return {
    host: (id) => `${base}/hosts/${id}`,
    hostsPrefix: () => `${base}/hosts/`,
    coordinationNamespace: () => `${base}/`,
    retentionPolicy: () => `${base}/meta/retention`,
    maintenanceRecord: () => `${base}/meta/maintenance`,
    event: (host, hlc, seq) => `${base}/events/log/${host}/${hlc}/${String(seq).padStart(12, '0')}`,
    eventsOfHost: (host) => `${base}/events/log/${host}/`,
    eventMark: (host) => `${base}/events/marks/${host}`,
    eventMarksPrefix: () => `${base}/events/marks/`,
  };
}

/** The last path segment of a key: the host id of a membership key. */
export function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
