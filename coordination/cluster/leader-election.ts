/**
 * Leader election among the function hosts, on etcd3's Election (the Go client's
 * concurrency/election.go recipe): every host campaigns with a key on its own lease under
 * `<root>/election/leader/`, and the key with the lowest create revision leads.
 *
 * Winning is not exclusive by itself: a leader that is paused (GC, SIGSTOP) or cut off past its TTL
 * still believes it leads while another host has been elected. Two measures close that gap:
 *  - duties stop as soon as the lease *may* have expired, measured from the last answered
 *    keepalive (coordination/cluster/lease-validity.ts), not at etcd3's late `lost` event (2 × TTL);
 *  - every leader write is fenced (`fencedTxn`): one transaction that first compares the campaign
 *    key's create revision, the fencing token. A deposed leader's key is gone or newer, so etcd
 *    refuses the write no matter how late it arrives.
 */
import { EventEmitter } from 'node:events';
import type { Campaign, Etcd3, IKeyValue, IOperation, IRequestOp, ITxnResponse, Lease } from 'etcd3';
import { NotLeaderError } from '../../ledger/errors';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { type Clock, isoTimestamp } from '../clock/clock';
import { coordinationKeys, LEADER_ELECTION_NAME } from '../etcd/key-layout';
import { ResilientWatch, watchEndReason } from '../etcd/resilient-watch';
import type { HostInfo, LeaderInfo } from './cluster-view';
import { LeaseValidity } from './lease-validity';
import { sleep } from './membership';

export interface LeaderElectionOptions {
  client: Etcd3;
  clock: Clock;
  /** This host (id and advertised URL); `since` is set when it wins. */
  self: Omit<HostInfo, 'since'>;
  /** Key root. Default DEFAULT_ROOT (`/pay/v2`, ledger/etcd/key-layout.ts). */
  root?: string;
  /** Campaign lease TTL, seconds. Default 2. A dead leader is replaced within about TTL + 1 s. */
  ttlSeconds?: number;
  /** Taken off the lease bound before duties stop, ms. Default 250. */
  safetyMarginMs?: number;
  /** Pause before campaigning again after a failed campaign, ms. Default 500. */
  retryDelayMs?: number;
  /** Called when the leader watch is rebuilt after a failure (etcd/resilient-watch.ts). */
  onWatchRestart?: (watch: string, reason: string) => void;
  log?: (event: Record<string, unknown>) => void;
}

/** One won election: the key this host campaigns with and its create revision. */
export interface LeadershipTerm {
  campaignKey: string;
  fencingToken: string;
  since: string;
}

type TxnOp = IRequestOp | IOperation;

/** An extra compare for fencedTxnIf: `key`'s `column` must equal `value` (Mod revision 0 = absent). */
export interface TxnGuard {
  key: string;
  column: 'Mod' | 'Version' | 'Create';
  value: string | number;
}

export class LeaderElection {
  private readonly client: Etcd3;
  private readonly clock: Clock;
  private readonly self: Omit<HostInfo, 'since'>;
  private readonly ttlSeconds: number;
  private readonly safetyMarginMs: number;
  private readonly retryDelayMs: number;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly onWatchRestart: (watch: string, reason: string) => void;
  private readonly namespace: string;
  private readonly prefix: string;
  private readonly events = new EventEmitter();
  private campaign: Campaign | undefined;
  /** The current campaign's key once etcd3 has created it, and whether its win is being taken up. */
  private campaignKey: string | undefined;
  private takingUp: Campaign | undefined;
  private validity: LeaseValidity | undefined;
  private term: LeadershipTerm | undefined;
  private observed: (LeaderInfo & { campaignKey: string }) | undefined;
  private readonly watch: ResilientWatch;
  private closed = false;
  /** Every campaign key under the prefix, as listed and then watched. */
  private readonly candidates = new Map<string, IKeyValue>();

  constructor({
    client,
    clock,
    self,
    root = DEFAULT_ROOT,
    ttlSeconds = 2,
    safetyMarginMs = 250,
    retryDelayMs = 500,
    onWatchRestart,
    log = () => {},
  }: LeaderElectionOptions) {
    this.client = client;
    this.clock = clock;
    this.self = self;
    this.ttlSeconds = ttlSeconds;
    this.safetyMarginMs = safetyMarginMs;
    this.retryDelayMs = retryDelayMs;
    this.log = log;
    this.onWatchRestart = onWatchRestart ?? (() => {});
    this.namespace = coordinationKeys(root).coordinationNamespace();
    this.prefix = `${this.namespace}election/${LEADER_ELECTION_NAME}/`;
    this.watch = new ResilientWatch({
      client,
      prefix: this.prefix,
      name: 'election',
      retryDelayMs,
      onRestart: onWatchRestart,
      log,
      onSnapshot: (kvs) => {
        this.candidates.clear();
        for (const kv of kvs) this.candidates.set(kv.key.toString(), kv);
        this.updateLeader();
      },
      onPut: (kv) => {
        this.candidates.set(kv.key.toString(), kv);
        this.updateLeader();
      },
      onDelete: (kv) => {
        this.candidates.delete(kv.key.toString());
        this.updateLeader();
      },
    });
  }

  /** True while the observed leader may be out of date (the election watch is down or being rebuilt). */
  viewStale(): boolean {
    return this.watch.stale();
  }

  start(): void {
    this.watch.start();
    this.runCampaign();
  }

  /** True only while this host won and its campaign lease is surely still alive. */
  isLeader(): boolean {
    if (!this.term || !this.validity?.valid()) return false;
    // The watch may lag the win by a moment; only a *different* observed leader disqualifies.
    return this.observed === undefined || this.observed.campaignKey === this.term.campaignKey;
  }

  /** The term this host currently leads in, while `isLeader()`. */
  currentTerm(): LeadershipTerm | undefined {
    return this.isLeader() ? this.term : undefined;
  }

  /** The leader as last seen by the watch on the election prefix. */
  leader(): LeaderInfo | undefined {
    if (!this.observed) return undefined;
    const { id, url, since, fencingToken } = this.observed;
    return { id, url, since, fencingToken };
  }

  /** Calls `listener` when the observed leader or this host's own leadership changes. */
  onChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /**
   * Runs `ops` in one transaction fenced on `term` (default: the current term). etcd applies them
   * only if the campaign key still has the create revision the term was won with; otherwise this
   * throws NotLeaderError and nothing is written. The check is etcd's, not local: a term captured
   * before a pause is refused after it if leadership moved meanwhile.
   */
  async fencedTxn(
    ops: TxnOp[],
    term: LeadershipTerm | undefined = this.currentTerm(),
  ): Promise<ITxnResponse> {
    const response = await this.commitFenced(ops, term);
    if (!response.succeeded) throw this.refused(term!);
    return response;
  }

  /**
   * Like fencedTxn, with one more compare on `guard` (e.g. "this key is still at the mod revision
   * I read"), so a leader's decision and its write are checked together in one transaction.
   * Answers false, writing nothing, when only the guard failed; throws NotLeaderError when the
   * fence did. (etcd compares are ANDed; the else branch reads the campaign key to tell which.)
   */
  async fencedTxnIf(
    guard: TxnGuard,
    ops: TxnOp[],
    term: LeadershipTerm | undefined = this.currentTerm(),
  ): Promise<boolean> {
    const response = await this.commitFenced(ops, term, guard);
    if (response.succeeded) return true;
    const campaign = response.responses[0]?.response_range?.kvs[0];
    if (campaign?.create_revision !== term!.fencingToken) throw this.refused(term!);
    return false;
  }

  private commitFenced(ops: TxnOp[], term: LeadershipTerm | undefined, guard?: TxnGuard) {
    if (!term) throw new NotLeaderError(`${this.self.id} is not the leader`);
    const fenced = this.client.if(term.campaignKey, 'Create', '==', term.fencingToken);
    const txn = guard ? fenced.and(guard.key, guard.column, '==', guard.value) : fenced;
    return txn
      .then(...ops)
      .else(this.client.get(term.campaignKey))
      .commit();
  }

  private refused(term: LeadershipTerm): NotLeaderError {
    return new NotLeaderError(
      `fenced write refused: ${this.self.id} no longer leads (token ${term.fencingToken})`,
    );
  }

  /** A fenced put of one key. */
  fencedPut(key: string, value: string, term?: LeadershipTerm): Promise<ITxnResponse> {
    return this.fencedTxn([this.client.put(key).value(value)], term);
  }

  /** Stops campaigning; a leader resigns, so the next one is elected at once rather than after the TTL. */
  async close(): Promise<void> {
    this.closed = true;
    this.validity?.stop();
    this.term = undefined;
    await this.watch.close();
    await this.campaign?.resign().catch(() => undefined);
  }

  private runCampaign(): void {
    if (this.closed) return;
    const election = this.client.namespace(this.namespace).election(LEADER_ELECTION_NAME, this.ttlSeconds);
    const value = JSON.stringify({ ...this.self, since: isoTimestamp(this.clock) });
    const campaign = election.campaign(value);
    this.campaign = campaign;
    this.campaignKey = undefined;
    void campaign.getCampaignKey().then(
      (key) => {
        if (this.campaign !== campaign) return;
        this.campaignKey = key;
        this.updateLeader();
      },
      () => undefined, // the campaign's own 'error' handler abandons it
    );
    // etcd3 keeps the campaign's lease private; its keepalive events are what bound the term.
    const lease = (campaign as unknown as { lease: Lease }).lease;
    this.validity?.stop();
    this.validity = new LeaseValidity(lease, {
      ttlSeconds: this.ttlSeconds,
      safetyMarginMs: this.safetyMarginMs,
      onExpiry: () => this.abandon(campaign, 'campaign lease may have expired'),
    });
    campaign.on('elected', () => void this.onElected(campaign));
    campaign.on('error', (error) => {
      // etcd3's campaign waits for its predecessor's key on a watch of its own; a compacted
      // resume revision ends it with this error, and abandon() campaigns afresh.
      const reason = watchEndReason(error);
      if (reason !== 'error') this.onWatchRestart('campaign', reason);
      this.abandon(campaign, `campaign failed: ${String(error)}`);
    });
  }

  private async onElected(campaign: Campaign): Promise<void> {
    // Once per campaign: etcd3's 'elected' and our own view of the candidates may both report it.
    if (this.takingUp === campaign || this.campaign !== campaign) return;
    this.takingUp = campaign;
    try {
      const campaignKey = await campaign.getCampaignKey();
      const response = await this.client.get(campaignKey).exec();
      const kv = response.kvs[0];
      if (!kv || this.campaign !== campaign) throw new Error('campaign key vanished right after the win');
      const since = isoTimestamp(this.clock);
      this.term = { campaignKey, fencingToken: kv.create_revision, since };
      // Announce the time of the win; proclaim is itself fenced on the create revision.
      await campaign.proclaim(JSON.stringify({ ...this.self, since }));
      this.log({
        level: 'info',
        msg: 'elected leader',
        host: this.self.id,
        fencingToken: this.term.fencingToken,
      });
      this.events.emit('change');
    } catch (error) {
      this.abandon(campaign, `could not take up leadership: ${String(error)}`);
    }
  }

  /** Gives up this campaign (resigning if the lease still lives) and campaigns again. */
  private abandon(campaign: Campaign, reason: string): void {
    if (this.campaign !== campaign) return;
    const wasLeader = this.term !== undefined;
    this.campaign = undefined;
    this.term = undefined;
    this.validity?.stop();
    this.log({
      level: 'warn',
      msg: wasLeader ? 'leadership ended' : 'campaign ended',
      host: this.self.id,
      reason,
    });
    this.events.emit('change');
    void campaign.resign().catch(() => undefined);
    void sleep(this.retryDelayMs).then(() => this.runCampaign());
  }

  /** The leader is the candidate with the lowest create revision (etcd3 Election, Go's election.go). */
  private updateLeader(): void {
    let lowest: IKeyValue | undefined;
    for (const kv of this.candidates.values()) {
      if (!lowest || BigInt(kv.create_revision) < BigInt(lowest.create_revision)) lowest = kv;
    }
    const before = JSON.stringify(this.observed);
    if (!lowest) {
      this.observed = undefined;
    } else {
      const info = JSON.parse(lowest.value.toString()) as HostInfo;
      this.observed = { ...info, fencingToken: lowest.create_revision, campaignKey: lowest.key.toString() };
    }
    if (JSON.stringify(this.observed) !== before) this.events.emit('change');
    // Our own key is the lowest candidate: this campaign has won. etcd3's campaign learns it from
    // a watch of its predecessor's key, and a restarted host was seen never to (found by the soak,
    // dev/soak/: the restarted leader's key was the lowest, every host saw it lead, yet it never
    // took up the term, so nothing was archived). Take the win up from the candidates we watch.
    if (this.campaign && !this.term && this.campaignKey && this.observed?.campaignKey === this.campaignKey)
      void this.onElected(this.campaign);
  }
}
