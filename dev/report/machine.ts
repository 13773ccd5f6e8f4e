/**
 * The machine a figure was measured on: CPU model, cores, memory, Node and etcd versions, date.
 * Every generated table and plot carries this line, because figures from a shared 2-core box
 * and from a dedicated server are not comparable.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { ensureEtcd } from '../cluster/ensure-etcd';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  etcd: string;
  /** ISO-8601 UTC time the measurement began. */
  date: string;
}

/** One line for a figure caption, e.g. "2 × AMD EPYC, 7.8 GiB, Node v20.20.2, etcd 3.5.16, 2026-11-25". */
export function describeMachine(m: Machine): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.cores} × ${m.cpuModel.trim()}, ${gib} GiB RAM, Node ${m.node}, etcd ${m.etcd}, measured ${m.date.slice(0, 16).replace('T', ' ')} UTC`;
}

/** The etcd version line of `etcd --version` ("etcd Version: 3.5.16" → "3.5.16"). */
export function parseEtcdVersion(output: string): string {
  return /etcd Version:\s*(\S+)/.exec(output)?.[1] ?? 'unknown';
}

export function currentMachine(date: Date): Machine {
  const list = cpus();
  let etcd = 'unknown';
  try {
    etcd = parseEtcdVersion(execFileSync(ensureEtcd({ log: () => {} }), ['--version']).toString());
  } catch {
    // Reported as unknown; the measurements themselves will say why etcd is missing.
  }
  return {
    cpuModel: list[0]?.model ?? 'unknown cpu',
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    etcd,
    date: date.toISOString(),
  };
}
