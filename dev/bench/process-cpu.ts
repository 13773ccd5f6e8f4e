/**
 * CPU time of processes, read from /proc/<pid>/stat (utime + stime), so the bench can state the
 * CPU each process spends per payment: etcd members, hosts and the load generator (this process).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** CPU milliseconds used so far by `pid` (user + system), or NaN when it cannot be read. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return Number.NaN;
  }
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
