/**
 * The names the report and slides templates may quote as {{key}}, fixed by the report contract
 * (dev/report/CONTRACT.md). values.json holds exactly these, plus `KEY.median`
 * for every figure that is a Stat; a test checks both directions.
 */
const members = ['m1', 'm3', 'm5'].flatMap((m) =>
  ['rate', 'p99', 'cpu', 'bytes'].map((f) => `redundancy.${m}.${f}`),
);

export const VALUE_KEYS = [
  ...['run.id', 'run.commit', 'run.date', 'run.machine', 'run.loadAvg', 'run.minutes', 'mode'],
  ...['bench.naive', 'bench.e2eMax', 'bench.ratio', 'bench.at2000', 'bench.at2000P99', 'bench.maxP99'],
  ...['bench.ceiling', 'bench.ceilingShare', 'bench.cpuEtcd', 'bench.cpuHosts', 'bench.cpuPg'],
  ...['bench.cpuLoadgen', 'bench.cpuTotal', 'bench.perTxn'],
  ...['etcd.walFsyncP99', 'etcd.peerRttP99', 'etcd.proposalsPendingMax', 'etcd.leaderChanges'],
  ...['opt.before', 'opt.after', 'opt.gain'],
  ...members,
  ...[
    'storage.etcdBytesPerPayment',
    'storage.pgBytesPerPayment',
    'storage.archivalRate',
    'storage.commitRate',
  ],
  ...['storage.historyHotP50', 'storage.historyArchivedP50', 'storage.etcdDbMaxMb', 'storage.quotaMb'],
  ...['time.loopbackMaxErr', 'time.delayMaxErr', 'time.delayBound', 'time.leaderKillStep'],
  'time.leaderKillInversions',
  ...['clocks.pairs', 'clocks.inversionsOff', 'clocks.inversionsOn', 'clocks.lateEvents'],
  ...['clocks.delayAdded', 'clocks.recorrected', 'clocks.syncCpu'],
  ...['elections.kills', 'elections.median', 'elections.p90', 'elections.max'],
  ...['failover.hostDetection', 'failover.hostGap', 'failover.reelection', 'failover.etcdDetection'],
  'failover.etcdGap',
  'partitions.recovery',
  ...['chaos.seconds', 'chaos.seed', 'chaos.operations', 'chaos.acknowledged', 'chaos.indeterminate'],
  ...['chaos.violations', 'chaos.faults', 'chaos.kinds', 'chaos.reads'],
  ...['shards.one', 'shards.two', 'shards.gain'],
  ...['bench', 'etcdMetrics', 'redundancy', 'optimization', 'storage', 'time', 'overhead', 'clocks'].map(
    (t) => `table.${t}`,
  ),
  ...['elections', 'failover', 'partitions', 'chaos', 'shards'].map((t) => `table.${t}`),
] as const;

export type ValueKey = (typeof VALUE_KEYS)[number];
