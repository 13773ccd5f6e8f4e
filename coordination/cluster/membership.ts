/**
 * Host membership: each function host registers `<root>/hosts/<id>` under a short lease and keeps
 * the lease alive; a SIGKILLed host stops renewing, etcd expires the lease after its TTL and
 * deletes the key, and every other host's watch sees it leave. A clean shutdown revokes the lease
 * at once. Each host keeps a watch-backed cache of the set, so `/cluster` and the leader's duties
 * read it without a round trip; the watch is rebuilt from a fresh listing whenever it ends, e.g.
 * after a compaction (ledger/etcd/resilient-watch.ts).
 *
 * The TTL must be at least etcd's minimum, 1.5 × its election timeout (etcd raises shorter TTLs
 * to that minimum anyway): 0.75 s with the local clusters' 500 ms election timeout. The default,
 * 2 s, also covers etcd's own 1 s election timeout (floor 1.5 s).
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, Lease } from 'etcd3';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { ResilientWatch } from '../../ledger/etcd/resilient-watch';
import { type Clock, isoTimestamp } from '../clock/clock';
import { type CoordinationKeys, coordinationKeys, lastSegment } from '../etcd/key-layout';
import type { HostInfo } from './cluster-view';
import { LeaseValidity } from './lease-validity';

/** What a host stores about itself under its membership key. */
export interface HostRecord extends HostInfo {
  /** Software version the host runs. */
  version: string;
}

/** A host as `/cluster` shows it: live ones, and ones seen leaving (alive false, since = when it left). */
export interface HostStatus extends HostRecord {
  alive: boolean;
}

export interface MembershipOptions {
  client: Etcd3;
  clock: Clock;
  /** This host: id, advertised URL and version. `since` is set at registration. */
  self: Omit<HostRecord, 'since'>;
  /** Key root. Default DEFAULT_ROOT (`/pay/v2`, ledger/etcd/key-layout.ts). */
  root?: string;
  /** Lease TTL in seconds. Default 2 (above etcd's minimum, 1.5 × its election timeout, for timeouts up to 1 s). */
  ttlSeconds?: number;
  /** Pause between failed registration attempts, in ms. Default 500. */
  retryDelayMs?: number;
  /** Departed hosts kept in the listing (alive false), most recent first. Default 16. */
  keepDeparted?: number;
  /** Called when the membership watch is rebuilt after a failure (ledger/etcd/resilient-watch.ts). */
  onWatchRestart?: (watch: string, reason: string) => void;
  log?: (event: Record<string, unknown>) => void;
}

export class Membership {
  private readonly client: Etcd3;
  private readonly clock: Clock;
  private readonly keys: CoordinationKeys;
  private readonly self: Omit<HostRecord, 'since'>;
  private readonly ttlSeconds: number;
  private readonly retryDelayMs: number;
  private readonly keepDeparted: number;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly events = new EventEmitter();
  private readonly live = new Map<string, HostRecord>();
  private readonly departed = new Map<string, HostStatus>();
  private lease: Lease | undefined;
  private validity: LeaseValidity | undefined;
  private readonly watch: ResilientWatch;
  private closed = false;
  private isRegistered = false;

  constructor({
    client,
    clock,
    self,
    root = DEFAULT_ROOT,
    ttlSeconds = 2,
    retryDelayMs = 500,
    keepDeparted = 16,
    onWatchRestart,
    log = () => {},
  }: MembershipOptions) {
    this.client = client;
    this.clock = clock;
    this.self = self;
    this.keys = coordinationKeys(root);
    this.ttlSeconds = ttlSeconds;
    this.retryDelayMs = retryDelayMs;
    this.keepDeparted = keepDeparted;
    this.log = log;
    this.watch = new ResilientWatch({
      client,
      prefix: this.keys.hostsPrefix(),
      name: 'membership',
      retryDelayMs,
      onRestart: onWatchRestart,
      log,
      onSnapshot: (kvs) => this.applySnapshot(kvs),
      onPut: (kv) => {
        this.upsert(kv);
        this.events.emit('change');
      },
      onDelete: (kv) => {
        this.remove(lastSegment(kv.key.toString()));
        this.events.emit('change');
      },
    });
  }

  /** True while the cached set may miss changes (its watch is down or being rebuilt). */
  viewStale(): boolean {
    return this.watch.stale();
  }

  /** Starts registering and watching in the background; `registered()` says when it took. */
  start(): void {
    void this.registerLoop();
    this.watch.start();
  }

  /** True while this host's membership key is surely alive in etcd. */
  registered(): boolean {
    return this.isRegistered && (this.validity?.valid() ?? false);
  }

  /** Live hosts, by id. */
  liveHosts(): HostInfo[] {
    return [...this.live.values()].map(({ id, url, since }) => ({ id, url, since })).sort(byId);
  }

  /** Live hosts and recently departed ones, for display. */
  hosts(): HostStatus[] {
    const alive = [...this.live.values()].map((h) => ({ ...h, alive: true }));
    return [...alive, ...this.departed.values()].sort(byId);
  }

  onChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Deregisters (revokes the lease, so the key goes at once) and stops watching. */
  async close(): Promise<void> {
    this.closed = true;
    this.isRegistered = false;
    this.validity?.stop();
    await this.watch.close();
    await this.lease?.revoke().catch(() => undefined);
  }

  private async registerLoop(): Promise<void> {
    while (!this.closed) {
      try {
        await this.register();
        return;
      } catch (error) {
        this.log({ level: 'warn', msg: 'membership registration failed', error: String(error) });
        await sleep(this.retryDelayMs);
      }
    }
  }

  private async register(): Promise<void> {
    const lease = this.client.lease(this.ttlSeconds);
    this.lease = lease;
    this.validity?.stop();
    this.validity = new LeaseValidity(lease, { ttlSeconds: this.ttlSeconds });
    lease.on('lost', (error) => {
      // Only the loss of a lease that carried our key starts a new registration; a lease whose
      // grant failed is already handled by registerLoop's retry.
      if (this.closed || this.lease !== lease || !this.isRegistered) return;
      this.isRegistered = false;
      this.log({ level: 'warn', msg: 'membership lease lost; registering again', error: String(error) });
      void this.registerLoop();
    });
    const record: HostRecord = { ...this.self, since: isoTimestamp(this.clock) };
    try {
      await lease.put(this.keys.host(this.self.id)).value(JSON.stringify(record));
    } catch (error) {
      void lease.revoke().catch(() => undefined);
      throw error;
    }
    if (this.closed) return void lease.revoke().catch(() => undefined);
    this.isRegistered = true;
    this.log({ level: 'info', msg: 'registered', host: this.self.id, ttlSeconds: this.ttlSeconds });
  }

  /** Replaces the cached set with a fresh listing: hosts missing from it have left. */
  private applySnapshot(kvs: IKeyValue[]): void {
    const listed = new Set(kvs.map((kv) => lastSegment(kv.key.toString())));
    for (const id of [...this.live.keys()]) if (!listed.has(id)) this.remove(id);
    for (const kv of kvs) this.upsert(kv);
    this.events.emit('change');
  }

  private upsert(kv: IKeyValue): void {
    const record = JSON.parse(kv.value.toString()) as HostRecord;
    this.live.set(record.id, record);
    this.departed.delete(record.id);
  }

  private remove(id: string): void {
    const record = this.live.get(id);
    this.live.delete(id);
    if (!record) return;
    this.departed.set(id, { ...record, alive: false, since: isoTimestamp(this.clock) });
    while (this.departed.size > this.keepDeparted) this.departed.delete(this.departed.keys().next().value!);
  }
}

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
