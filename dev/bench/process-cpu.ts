/**
 * CPU time of processes, read from /proc/<pid>/stat (utime + stime), so the bench can state the
 * CPU each process spends per payment: etcd members, hosts, PostgreSQL (a postmaster and every
 * backend it forked), chrony and the load generator (this process).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the ")" closing the command name (state is [0]), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU milliseconds used so far by `pid` (user + system), or NaN when it cannot be read. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  // utime is field 14, stime 15 (proc(5)); here indices 11 and 12.
  const fields = statFields(pid);
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks() : Number.NaN;
}

/**
 * CPU milliseconds used so far by `pid` and all its descendants: the live ones (found by their
 * parent pid, field 4), plus what the root's exited and reaped children used (cutime + cstime,
 * fields 16 and 17). PostgreSQL forks a backend per connection and workers that come and go; a
 * child that exits between two readings moves from the first term to the second, and is kept.
 */
export function processTreeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const root = statFields(pid);
  if (!root) return Number.NaN;
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const parent = Number(statFields(child)?.[1]);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(child);
  }
  let ms = ((Number(root[13]) + Number(root[14])) * 1000) / clockTicks();
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop()!;
    const used = cpuMs(next);
    if (Number.isFinite(used)) ms += used;
    queue.push(...(children.get(next) ?? []));
  }
  return ms;
}

/** CPU milliseconds this process has used. */
export const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export interface CpuProbe {
  /** Process group label, e.g. "etcd members". */
  group: string;
  read: () => number;
}

/** Takes a reading of every probe; `since` gives the CPU ms each group used after it. */
export function cpuSnapshot(probes: CpuProbe[]) {
  const start = probes.map((p) => p.read());
  return {
    since(): Record<string, number> {
      const used: Record<string, number> = {};
      probes.forEach((p, i) => {
        used[p.group] = (used[p.group] ?? 0) + (p.read() - start[i]!);
      });
      return used;
    },
  };
}
