/**
 * payctl: the operator's command line for the payments cluster. Run `npx payctl --help`.
 * Every command takes --json (one JSON document on stdout); progress goes to stderr; the exit
 * codes are the table in cli/errors.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readDevAdminKey } from '../dev/cluster/dev-admin-key';
import { REPO_ROOT } from '../dev/cluster/host-fleet';
import type { PaymentRequest, StoredPayment } from '../ledger/payment';
import { ApiClient } from './api';
import { CliError, EXIT_CODES } from './errors';
import { registerKeyCommands } from './keys';
import {
  findProcess,
  isAlive,
  killProcess,
  readLocalState,
  requireLocalState,
  restartProcess,
  runningPid,
} from './local-cluster';
import { maintainEtcd, mib } from './maintain';
import { type Printer, printer, table, withProgress } from './output';
import { readStatus, renderStatus } from './status';

// Read once, at start-up (the house rule for process.env).
const ENV = { url: process.env.PAYCTL_URL, dataDir: process.env.PAY_DATA_DIR };

export interface CommonOptions {
  json?: boolean;
  url?: string;
  apiKey?: string;
  dataDir: string;
}

const positiveInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer`);
  }
  return n;
};

function common(command: Command): Command {
  return command
    .option('--json', 'print one JSON document instead of tables')
    .addOption(
      new Option('--url <url>', 'a function host to talk to (default: the local cluster hosts)').env(
        'PAYCTL_URL',
      ),
    )
    .addOption(
      new Option(
        '--api-key <key>',
        'API key (default: the local cluster admin key in <data-dir>/dev-admin-key)',
      ).env('PAYMENTS_API_KEY'),
    )
    .addOption(
      new Option('--data-dir <dir>', 'data directory of the local `npm start` cluster').default(
        ENV.dataDir ?? '.data',
      ),
    );
}

function context(options: CommonOptions): { print: Printer; api: ApiClient; dataDir: string } {
  const dataDir = resolve(options.dataDir);
  const local = readLocalState(dataDir);
  const url = options.url ?? ENV.url;
  const hosts = url
    ? [url.replace(/\/+$/, '')]
    : [
        ...(local?.processes.filter((p) => p.kind === 'host' && p.running).map((p) => p.url) ?? []),
        ...(local ? [] : ['http://127.0.0.1:8081']),
      ];
  const apiKey = options.apiKey ?? readDevAdminKey(dataDir);
  return { print: printer(options.json === true), api: new ApiClient({ hosts, apiKey }), dataDir };
}

const paymentRow = (p: StoredPayment) => ({
  sequence: p.sequence,
  committedAt: p.committedAt,
  id: p.id,
  payer: p.payer,
  payee: p.payee,
  amount: p.amount,
  currency: p.currency,
  host: p.host,
});

const program = new Command('payctl')
  .description('Operate the payments cluster: status, payments, events, and the local cluster processes.')
  .showHelpAfterError()
  .exitOverride();

common(
  program.command('status').description('hosts, etcd members, leader, raft term and index, clock offsets'),
).action(async (options: CommonOptions) => {
  const { print, api, dataDir } = context(options);
  const status = await readStatus(api, readLocalState(dataDir));
  print.result(status, () => renderStatus(status));
});

common(
  program
    .command('pay')
    .description(
      'make a payment (exactly once per payer and id: repeating the command with the same --payer and --id is safe)',
    )
    .requiredOption('--payer <account>', 'paying account')
    .requiredOption('--payee <account>', 'receiving account')
    .requiredOption('--amount <minor units>', 'amount in minor units (cents)', positiveInt('--amount'))
    .requiredOption('--currency <code>', 'ISO 4217 currency, e.g. EUR')
    .option('--id <id>', 'payment id (default: a new UUID, printed)')
    .option('--description <text>', 'free text')
    .option('--meta <key=value...>', 'metadata entries'),
).action(async (options: CommonOptions & Record<string, unknown>) => {
  const { print, api } = context(options);
  const metadata = options.meta
    ? Object.fromEntries(
        (options.meta as string[]).map((kv) => {
          const at = kv.indexOf('=');
          if (at < 1) throw new CliError(`--meta wants key=value, got ${kv}`, EXIT_CODES.usage);
          return [kv.slice(0, at), kv.slice(at + 1)];
        }),
      )
    : undefined;
  const body = {
    id: (options.id as string | undefined) ?? randomUUID(),
    payer: options.payer,
    payee: options.payee,
    amount: options.amount,
    currency: options.currency,
    description: options.description,
    metadata,
  };
  // Validated by the host (400 naming the field), as when the body went out as it came.
  const { outcome, payment } = await api.pay(body as PaymentRequest & { id: string });
  print.result({ outcome, payment }, () => `${outcome}\n${table([paymentRow(payment)])}`);
});

common(
  program
    .command('get')
    .description(
      'show one payment; a payment is its payer and id, so give --payer when several payers used the id',
    )
    .argument('<id>', 'payment id')
    .option('--payer <account>', 'the paying account (needed when the id alone is ambiguous)'),
).action(async (id: string, options: CommonOptions & { payer?: string }) => {
  const { print, api } = context(options);
  const p = await api.payment(id, options.payer);
  print.result(p, () =>
    table(
      Object.entries({
        ...paymentRow(p),
        description: p.description,
        metadata: p.metadata && JSON.stringify(p.metadata),
      }).map(([field, value]) => ({ field, value: value as string })),
    ),
  );
});

common(
  program
    .command('history')
    .description("list an account's payments (as payer or payee) in commit order")
    .requiredOption('--account <account>', 'the account')
    .option('--from <date>', 'ISO-8601, inclusive')
    .option('--to <date>', 'ISO-8601, exclusive')
    .option('--limit <n>', 'page size', positiveInt('--limit'))
    .option('--all', 'follow cursors to the last page'),
).action(
  async (
    options: CommonOptions & { account: string; from?: string; to?: string; limit?: number; all?: boolean },
  ) => {
    const { print, api } = context(options);
    const payments: StoredPayment[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ account: options.account });
      if (options.from) query.set('from', options.from);
      if (options.to) query.set('to', options.to);
      if (options.limit) query.set('limit', String(options.limit));
      if (cursor) query.set('cursor', cursor);
      const page = await api.json<{ payments: StoredPayment[]; nextCursor: string | null }>(
        `/payments?${query}`,
      );
      payments.push(...page.body.payments);
      cursor = page.body.nextCursor;
      if (options.all && cursor) print.progress(`${payments.length} payments so far …`);
    } while (options.all && cursor);
    print.result({ payments, nextCursor: cursor }, () =>
      [table(payments.map(paymentRow)), ...(cursor ? ['(more: repeat with --all)'] : [])].join('\n'),
    );
  },
);

interface EventsPage {
  events?: Record<string, unknown>[];
  next?: number | string;
}

common(
  program
    .command('events')
    .description('the cluster event log (membership, leadership, member faults)')
    .option('--follow', 'keep printing new events until interrupted')
    .option('--from <position>', 'start from this position (default: the recent events)')
    .option('--limit <n>', 'events per request', positiveInt('--limit'), 100)
    .option('--interval <ms>', 'poll interval while following', positiveInt('--interval'), 1000),
).action(
  async (options: CommonOptions & { follow?: boolean; from?: string; limit: number; interval: number }) => {
    const { print, api } = context(options);
    let from = options.from;
    const emit = (event: Record<string, unknown>) => {
      if (print.json) console.log(JSON.stringify(event));
      else {
        const { at, time, timestamp, type, kind, host, ...rest } = event;
        console.log(
          `${at ?? time ?? timestamp ?? ''}  ${type ?? kind ?? 'event'}  ${host ?? ''}  ${JSON.stringify(rest)}`,
        );
      }
    };
    for (;;) {
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (from !== undefined) query.set('from', from);
      const answer = await api.optional<EventsPage | Record<string, unknown>[]>(`/events?${query}`);
      if (!answer)
        throw new CliError(
          'the cluster event log is not available on this cluster (GET /events answered 404)',
          EXIT_CODES.notAvailable,
        );
      const page = Array.isArray(answer.body) ? { events: answer.body } : answer.body;
      for (const event of page.events ?? []) emit(event);
      const last = page.events?.at(-1);
      if (page.next !== undefined) from = String(page.next);
      else if (last && typeof (last.seq ?? last.sequence) === 'number')
        from = String(Number(last.seq ?? last.sequence) + 1);
      if (!options.follow) return;
      await new Promise((r) => setTimeout(r, options.interval));
    }
  },
);

common(
  program
    .command('kill')
    .description('stop one etcd member or function host of the local `npm start` cluster, by pid')
    .argument('<name>', 'member (n1, n2, …) or host (h1, h2, …)')
    .addOption(
      new Option('--signal <signal>', 'TERM stops cleanly, KILL crashes')
        .choices(['TERM', 'KILL'])
        .default('TERM'),
    ),
).action(async (name: string, options: CommonOptions & { signal: 'TERM' | 'KILL' }) => {
  const { print, dataDir } = context(options);
  const state = requireLocalState(dataDir);
  const target = findProcess(state, name);
  runningPid(target); // fail before printing progress
  const result = await withProgress(
    print,
    `stopping ${target.kind} ${name} (pid ${target.pid}) with SIG${options.signal}`,
    killProcess(target, `SIG${options.signal}`),
  );
  print.result(
    result,
    () =>
      `${result.kind} ${name} stopped (pid ${result.pid}, SIG${options.signal}); \`payctl restart ${name}\` starts it again`,
  );
});

common(
  program
    .command('restart')
    .description(
      'start a stopped etcd member or function host of the local cluster again, and wait until it is healthy',
    )
    .argument('<name>', 'member (n1, n2, …) or host (h1, h2, …)'),
).action(async (name: string, options: CommonOptions) => {
  const { print, dataDir } = context(options);
  const state = requireLocalState(dataDir);
  const target = findProcess(state, name);
  if (target.running)
    throw new CliError(`${name} is already running (pid ${target.pid})`, EXIT_CODES.refused);
  const result = await withProgress(
    print,
    `restarting ${target.kind} ${name}, waiting until healthy`,
    restartProcess(state, target),
  );
  print.result(result, () => `${target.kind} ${name} running again (pid ${result.pid}, ${result.url})`);
});

common(
  program
    .command('replace-member')
    .description(
      'replace an etcd member that lost its data with a fresh one (runs `npm run cluster -- replace-member` on the local layout)',
    )
    .argument('<name>', 'the member, e.g. n2; it must be stopped (payctl kill)')
    .argument('[args...]', 'passed on to the cluster tool'),
).action((name: string, args: string[], options: CommonOptions) => {
  const dataDir = resolve(options.dataDir);
  const members = requireLocalState(dataDir).processes.filter((p) => p.kind === 'member');
  const member = members.find((m) => m.name === name);
  if (!member) {
    throw new CliError(
      `no local etcd member named ${name}; members: ${members.map((m) => m.name).join(', ') || 'none (external etcd)'}`,
      EXIT_CODES.notFound,
    );
  }
  // The state file may lag a kill by a moment; the pid says whether the member still runs.
  if (member.running && member.pid !== null && isAlive(member.pid)) {
    throw new CliError(`member ${name} is running: stop it first (payctl kill ${name})`, EXIT_CODES.refused);
  }
  // The cluster tool rebuilds the member layout npm start used: the same names, client and peer ports.
  const port = (url: string | undefined) => (url ? new URL(url).port : '');
  const forwarded = [
    'run',
    '--silent',
    'cluster',
    '--',
    'replace-member',
    name,
    ...args,
    ...['--data-dir', dataDir],
    ...['--etcd-members', String(members.length)],
    ...['--etcd-client-ports', members.map((m) => port(m.url)).join(',')],
    ...(members.every((m) => m.peerUrl)
      ? ['--etcd-peer-ports', members.map((m) => port(m.peerUrl)).join(',')]
      : []),
  ];
  const run = spawnSync('npm', forwarded, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (run.status !== 0)
    throw new CliError(`replace-member failed (exit ${run.status ?? run.signal})`, EXIT_CODES.unavailable);
});

common(
  program
    .command('maintain')
    .description(
      "reclaim etcd's file space and lift NOSPACE, as etcd root: defragment each member in turn (leader last), then disarm NOSPACE if every member is under the hosts' high-water mark",
    )
    .option(
      '--high-water-bytes <n>',
      "disarm NOSPACE only under this size (default: the hosts' mark, from GET /cluster)",
      positiveInt('--high-water-bytes'),
    ),
).action(async (options: CommonOptions & { highWaterBytes?: number }) => {
  const { print, api, dataDir } = context(options);
  const state = requireLocalState(dataDir);
  const root = state.etcdRootCredentials;
  if (!root && state.etcdEndpoints.some((url) => url.startsWith('https:'))) {
    throw new CliError(
      `no etcd root credential recorded in ${dataDir}: restart npm start, or defragment with etcdctl as root (docs/operations.md)`,
      EXIT_CODES.notAvailable,
    );
  }
  const highWaterBytes =
    options.highWaterBytes ??
    (await api
      .json<{ etcd?: { storage?: { highWaterBytes?: number } } }>('/cluster')
      .then((answer) => answer.body.etcd?.storage?.highWaterBytes)
      .catch(() => undefined));
  const result = await maintainEtcd({
    endpoints: state.etcdEndpoints,
    tls: root,
    highWaterBytes,
    progress: (line) => print.progress(line),
  });
  print.result(result, () =>
    [
      table(
        result.members.map((m) => ({
          member: m.name,
          before: mib(m.dbSizeBefore),
          after: mib(m.dbSizeAfter),
          inUse: mib(m.dbSizeInUseAfter),
          defragmented: m.defragmented,
          error: m.error,
        })),
      ),
      `high-water mark: ${result.highWaterBytes === null ? 'unknown (no host answered; pass --high-water-bytes)' : mib(result.highWaterBytes)}`,
      `disarmed: ${result.disarmed.map((a) => `${a.alarm} on ${a.member}`).join(', ') || 'nothing'}`,
      `alarms raised now: ${result.alarms.map((a) => `${a.alarm} on ${a.member}`).join(', ') || 'none'}`,
    ].join('\n'),
  );
  // Exit 1 while space is still short or an alarm is still raised: the runbook goes on.
  if (!result.underMark || result.alarms.length > 0 || result.members.some((m) => m.error)) {
    process.exitCode = EXIT_CODES.refused;
  }
});

registerKeyCommands(program, { common, context });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_CODES.usage;
      return;
    }
    if (error instanceof CliError) {
      const json = process.argv.includes('--json');
      if (json) console.log(JSON.stringify({ error: { message: error.message, exitCode: error.exitCode } }));
      console.error(`payctl: ${error.message}`);
      process.exitCode = error.exitCode;
      return;
    }
    console.error(`payctl: unexpected error: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 70;
  }
}

await main();
