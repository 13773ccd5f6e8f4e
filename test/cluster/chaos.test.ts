/**
 * The short chaos run of `npm test`: traffic until each kind of fault has been injected once (about a minute) from concurrent clients while the
 * nemesis injects every kind of fault (etcd follower and leader kills, member and host pauses,
 * host kills, leader isolation, a host cut off from etcd), then the history checker over the
 * whole ledger as every host serves it. `npm run chaos` runs the same thing for longer.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_GROUPS, parseFaults } from '../../dev/chaos/nemesis';
import { runChaos } from '../../dev/chaos/run-chaos';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';

describe('chaos (short run)', () => {
  it('keeps every promise of the ledger through every kind of fault', async () => {
    // Progress goes to a file beside the results, so that a run that fails or times out can be read.
    const stamp = Date.now();
    mkdirSync(join(REPO_ROOT, 'results'), { recursive: true });
    const progress = join(REPO_ROOT, 'results', `chaos-test-${stamp}.log`);
    const report = await runChaos({
      durationMs: 15_000,
      everyKindOnce: true,
      faults: parseFaults('kill,pause,partition'),
      outDir: join(REPO_ROOT, 'results', `chaos-test-${stamp}`),
      clients: 4,
      quietMs: 1000,
      holdMs: 3000,
      log: (line) => appendFileSync(progress, `${new Date().toISOString()} ${line}\n`),
    });
    const summary = `${report.operations} ops, ${report.acknowledged} acked, ${report.readsChecked} reads checked (${report.readsFailed} failed); faults ${JSON.stringify(report.faultsByKind)}; results in ${report.outDir}`;
    expect(report.violations, summary).toEqual([]);
    for (const kind of Object.values(FAULT_GROUPS).flat())
      expect(report.faultsByKind[kind], `${kind}: ${summary}`).toBeGreaterThanOrEqual(1);
    // The run did real work on both sides of the faults, and read it all back.
    expect(report.acknowledged, summary).toBeGreaterThan(100);
    expect(report.recordsRead, summary).toBeGreaterThan(100);
    // Reads were made while the nemesis acted, and checked against real time.
    expect(report.readsChecked, summary).toBeGreaterThan(0);
    expect(
      report.faults.every((f) => f.recovered !== undefined),
      summary,
    ).toBe(true);
  }, 420_000);
});
