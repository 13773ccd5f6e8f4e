/**
 * `npm run measure:elections`: the distribution of etcd's leader-election time. On a scratch
 * three-member cluster, SIGKILLs the Raft leader `--kills` times (default 20); each time measures
 * from the kill until a surviving member's `status` names a new leader (Raft §5.2: a follower
 * waits one randomized election timeout, then wins a vote), then restarts the killed member with
 * its data and waits for the whole cluster to be healthy before the next kill.
 *
 *   --kills N        leader kills (default 20)
 *   --json FILE      write the figures there (the report contract's shape)
 *   --run-id ID      copied into the JSON (npm run report passes one per run)
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startScratchCluster } from './cluster/scratch-cluster';
import { measurementHeader } from './measure-output';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    json: { type: 'string' },
    'run-id': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('Usage: npm run measure:elections -- [--kills N (default 20)] [--json FILE] [--run-id ID]');
  process.exit(0);
}
const kills = Number(values.kills);
if (!Number.isInteger(kills) || kills < 1) {
  console.error('--kills must be ≥ 1');
  process.exit(2);
}
const header = measurementHeader('measure:elections', values['run-id']);
const progress = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How often the survivors' status is asked while waiting for a new leader, ms. */
const POLL_MS = 10;

const cluster = await startScratchCluster({ members: 3, dirPrefix: 'measure-elections-' });
const probes = new Map(
  cluster.etcd.members.map((m) => [
    m.spec.name,
    cluster.client({ endpoints: [m.clientUrl], callDeadlineMs: 500 }),
  ]),
);
/** A member's status, or undefined when it does not answer (it is dead or cut off). */
async function status(name: string) {
  try {
    const s = await probes.get(name)!.maintenance.status();
    return { self: String(s.header?.member_id ?? ''), leader: String(s.leader ?? '0') };
  } catch {
    return undefined;
  }
}
/** The name of the member every answering member calls leader, if they agree on one. */
async function leaderName(among: string[]): Promise<string | undefined> {
  const answers = await Promise.all(among.map(async (name) => ({ name, s: await status(name) })));
  const ids = new Set(answers.map((a) => a.s?.leader));
  if (ids.size !== 1) return undefined;
  return answers.find((a) => a.s && a.s.self === a.s.leader)?.name;
}

const results: { killed: string; elected: string; electionMs: number }[] = [];
try {
  const names = cluster.etcd.members.map((m) => m.spec.name);
  for (let i = 0; i < kills; i++) {
    await cluster.etcd.waitHealthy();
    let leader = await leaderName(names);
    while (leader === undefined) {
      await sleep(50);
      leader = await leaderName(names);
    }
    const survivors = names.filter((n) => n !== leader);
    const killedAt = performance.now();
    await cluster.etcd.member(leader).process.kill();
    let elected: string | undefined;
    for (;;) {
      const s = await Promise.all(survivors.map(async (n) => ({ n, s: await status(n) })));
      elected = s.find((x) => x.s && x.s.leader !== '0' && x.s.self === x.s.leader)?.n;
      if (elected) break;
      await sleep(POLL_MS);
    }
    const electionMs = Math.round(performance.now() - killedAt);
    results.push({ killed: leader, elected, electionMs });
    progress(`kill ${i + 1}/${kills}: ${leader} killed, ${elected} elected after ${electionMs} ms`);
    await cluster.etcd.restartMember(leader);
  }
} finally {
  for (const c of probes.values()) c.close();
  await cluster.stop();
}
const sorted = results.map((r) => r.electionMs).sort((a, b) => a - b);
console.log(
  `${results.length} leader kills: election min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`,
);
if (values.json)
  writeFileSync(values.json, `${JSON.stringify({ ...header, members: 3, kills: results }, null, 2)}\n`);
process.exit(0);
