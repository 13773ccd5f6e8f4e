/**
 * A leader candidate in its own process, so a test can freeze it with SIGSTOP. It campaigns, prints
 * `{"event":"elected","fencingToken":...}` once it leads, keeps that term, and on each stdin line
 * `write <value>` prints whether it still believes it leads and then tries a fenced put of
 * <value> with the term it won, printing `{"event":"write","ok":...}`. That reproduces the
 * check-then-pause race a real leader's duty has: the write is sent after the pause, with a
 * token from before it.
 * Env: ETCD_ENDPOINTS (comma-separated), ROOT, HOST_ID, FENCED_KEY; ETCD_CA_FILE, ETCD_CERT_FILE,
 * ETCD_KEY_FILE on a secured cluster.
 */
import { createInterface } from 'node:readline';
import { systemClock } from '../../coordination/clock/clock';
import { LeaderElection, type LeadershipTerm } from '../../coordination/cluster/leader-election';
import { etcdClientFromEnv } from './child-etcd';

const env = process.env;
const client = etcdClientFromEnv(env);
const id = env.HOST_ID ?? 'fixture';
const election = new LeaderElection({
  client,
  clock: systemClock,
  root: env.ROOT,
  self: { id, url: 'http://127.0.0.1:1' },
});
const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
let term: LeadershipTerm | undefined;
election.onChange(() => {
  const current = election.currentTerm();
  if (!term && current) {
    term = current;
    print({ event: 'elected', fencingToken: term.fencingToken });
  }
});
election.start();

for await (const line of createInterface({ input: process.stdin })) {
  const [command, value = ''] = line.split(' ');
  if (command !== 'write') continue;
  const believesLeader = election.isLeader();
  try {
    await election.fencedPut(env.FENCED_KEY ?? '/fenced', value, term);
    print({ event: 'write', ok: true, believesLeader });
  } catch (error) {
    print({ event: 'write', ok: false, believesLeader, error: (error as Error).name });
  }
}
