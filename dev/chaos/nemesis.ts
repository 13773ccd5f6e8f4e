/**
 * The nemesis: injects one fault at a time on a schedule, heals it, and waits for the cluster to
 * recover before the next, recording when each fault began, was healed and was recovered from.
 * Faults are deterministic: signals by pid to processes the harness started, and cuts on the
 * LinkProxy layer it owns. Every loop is bounded in count and in time.
 */
import type { ChaosCluster } from './chaos-cluster';

export const FAULT_GROUPS = {
  kill: ['kill-etcd-follower', 'kill-etcd-leader', 'kill-host', 'kill-leader-host'],
  pause: ['pause-etcd-member', 'pause-host'],
  partition: ['isolate-etcd-leader', 'cut-host-from-etcd'],
} as const;

export type FaultGroup = keyof typeof FAULT_GROUPS;
export type FaultKind = (typeof FAULT_GROUPS)[FaultGroup][number];

export interface FaultRecord {
  kind: FaultKind;
  /** What exactly was hit, e.g. `etcd n2 (leader)`. */
  target: string;
  /** Run-clock ms: injected, healed, and recovered (cluster healthy again; undefined if it never was). */
  start: number;
  healed: number;
  recovered: number | undefined;
}

export interface NemesisOptions {
  cluster: ChaosCluster;
  kinds: FaultKind[];
  now: () => number;
  random: () => number;
  /** Stop scheduling new faults after this run-clock time, in ms. */
  until: number;
  /** Quiet time before each fault, in ms. Default 3000. */
  quietMs?: number;
  /** How long a fault lasts before it is healed, in ms. Default 5000. */
  holdMs?: number;
  /** Longest wait for recovery after a heal, in ms. Default 45000. */
  recoveryTimeoutMs?: number;
  /** Upper bound on faults, whatever the duration. Default 1000. */
  maxFaults?: number;
  /** Finish the first round (one fault of every kind) even past `until`. Default false. */
  everyKindOnce?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Stops the schedule early. */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  current: FaultRecord | undefined;

  constructor(private readonly options: NemesisOptions) {}

  /** Runs faults round-robin over `kinds` (each round in a seeded order) until `until`. */
  async run(): Promise<void> {
    const { kinds, now, until, quietMs = 3000, holdMs = 5000, maxFaults = 1000, signal } = this.options;
    let round: FaultKind[] = [];
    // Attempts are bounded too: a fault is skipped (not counted) while there is no leader to aim at.
    for (
      let attempt = 0;
      attempt < 2 * maxFaults && this.faults.length < maxFaults && !signal?.aborted;
      attempt++
    ) {
      await sleep(quietMs, signal);
      const firstRoundDone = new Set(this.faults.map((f) => f.kind)).size >= kinds.length;
      if ((now() + holdMs > until && (!this.options.everyKindOnce || firstRoundDone)) || signal?.aborted)
        break;
      if (round.length === 0) round = this.shuffled(kinds);
      await this.inject(round.shift()!, holdMs);
    }
  }

  /** Fisher–Yates with the seeded generator, so a seed repeats the same fault order. */
  private shuffled(kinds: FaultKind[]): FaultKind[] {
    const list = [...kinds];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.options.random() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  }

  private async inject(kind: FaultKind, holdMs: number): Promise<void> {
    const { cluster, now, log = () => {}, recoveryTimeoutMs = 45_000, random } = this.options;
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    const start = now();
    let target = '';
    let heal: () => Promise<void> | void = () => {};
    switch (kind) {
      case 'kill-etcd-follower':
      case 'kill-etcd-leader': {
        const leader = await cluster.leader();
        const member =
          kind === 'kill-etcd-leader'
            ? leader
            : pick(cluster.etcd.members.filter((m) => m !== leader && m.process.running));
        if (!member) break;
        target = `etcd ${member.name}${member === leader ? ' (leader)' : ''}`;
        await member.process.kill();
        heal = () => cluster.etcd.restartMember(member.name, 60_000).catch(() => {});
        break;
      }
      case 'pause-etcd-member': {
        const member = pick(cluster.etcd.members);
        const leader = await cluster.leader();
        target = `etcd ${member.name}${member === leader ? ' (leader)' : ''}`;
        member.process.pause();
        heal = () => void member.process.resume();
        break;
      }
      case 'kill-host': {
        const host = pick(cluster.hosts);
        target = `host ${host.id}`;
        await host.process.kill();
        heal = () => cluster.restartHost(host.id, 60_000).catch(() => {});
        break;
      }
      case 'kill-leader-host': {
        // The host that leads the function hosts (time master, maintenance), as /cluster reports it.
        const leaderId = await hostLeaderId(
          cluster.hosts.filter((h) => h.process.running).map((h) => h.url),
          cluster.adminKey,
        );
        const host = cluster.hosts.find((h) => h.id === leaderId);
        if (!host) break;
        target = `host ${host.id} (leader)`;
        await host.process.kill();
        heal = () => cluster.restartHost(host.id, 60_000).catch(() => {});
        break;
      }
      case 'pause-host': {
        const host = pick(cluster.hosts);
        target = `host ${host.id}`;
        host.process.pause();
        heal = () => void host.process.resume();
        break;
      }
      case 'isolate-etcd-leader': {
        const leader = await cluster.leader();
        if (!leader) break;
        target = `etcd ${leader.name} (leader)`;
        cluster.isolateMember(leader.name);
        heal = () => cluster.healNetwork();
        break;
      }
      case 'cut-host-from-etcd': {
        const host = pick(cluster.hosts);
        target = `host ${host.id}`;
        cluster.cutHost(host.id);
        heal = () => cluster.healNetwork();
        break;
      }
    }
    if (!target) {
      log(`nemesis: skipped ${kind} (no leader to aim at)`);
      return;
    }
    const record: FaultRecord = { kind, target, start, healed: start, recovered: undefined };
    this.current = record;
    log(`nemesis: ${kind} on ${target}`);
    await sleep(holdMs);
    if (kind === 'isolate-etcd-leader' || kind === 'kill-etcd-leader') {
      // Evidence that the fault bit: the majority elected a leader of its own meanwhile.
      const name = target.split(' ')[1];
      record.target += `; majority leader before heal: ${(await cluster.leader(name))?.name ?? 'none'}`;
    }
    await heal();
    record.healed = now();
    this.faults.push(record);
    try {
      await cluster.waitHealthy(recoveryTimeoutMs);
      record.recovered = now();
      log(
        `nemesis: healed ${kind}; cluster healthy ${((record.recovered - record.healed) / 1000).toFixed(1)} s later`,
      );
    } catch {
      log(`nemesis: cluster still not healthy ${recoveryTimeoutMs} ms after healing ${kind}`);
    }
    this.current = undefined;
  }
}

/** Parses `kill,pause,partition` (groups) or single kinds such as `kill-etcd-leader`. */
export function parseFaults(list: string): FaultKind[] {
  const kinds = new Set<FaultKind>();
  for (const word of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (word in FAULT_GROUPS) for (const k of FAULT_GROUPS[word as FaultGroup]) kinds.add(k);
    else if (Object.values(FAULT_GROUPS).some((g) => (g as readonly string[]).includes(word)))
      kinds.add(word as FaultKind);
    else
      throw new Error(
        `unknown fault ${word}; use ${Object.keys(FAULT_GROUPS).join(', ')} or one of their kinds`,
      );
  }
  return [...kinds];
}

/** The host leader's id from the first live host whose GET /cluster names one. */
async function hostLeaderId(urls: string[], apiKey: string): Promise<string | undefined> {
  for (const url of urls) {
    try {
      const response = await fetch(`${url}/cluster`, {
        headers: { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(2000),
      });
      const body = (await response.json()) as { leader?: { id?: string } | null };
      if (body.leader?.id) return body.leader.id;
    } catch {
      // try the next host
    }
  }
  return undefined;
}
