/**
 * `payctl keys …` (also `npm run keys -- …`): API key management through the hosts' admin routes
 * (functions/handlers/admin-keys.ts), with an admin key (by default the local cluster's).
 *   keys create --account shop-1 [--account shop-2] [--admin] [--rate-limit 50] [--label text]
 *   keys list
 *   keys revoke <id>
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { ApiClient } from './api';
import { type Printer, table } from './output';

interface KeyView {
  id: string;
  label?: string;
  accounts: string[];
  scopes: string[];
  rateLimitPerSecond: number | null;
  createdAt: string;
  revokedAt?: string;
}

export interface KeyCommandDeps<O> {
  /** Adds the options every payctl command takes. */
  common: (command: Command) => Command;
  context: (options: O) => { print: Printer; api: ApiClient };
}

const row = (k: KeyView) => ({
  id: k.id,
  label: k.label ?? '',
  accounts: k.accounts.join(',') || '-',
  scopes: k.scopes.join(',') || '-',
  rateLimit: k.rateLimitPerSecond ?? 'default',
  createdAt: k.createdAt,
  revokedAt: k.revokedAt ?? '',
});

const nonNegativeInt = (value: string) => {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError('--rate-limit must be a whole number (0 = unlimited)');
  return Number(value);
};

export function registerKeyCommands<O>(program: Command, { common, context }: KeyCommandDeps<O>): void {
  const keys = program.command('keys').description('create, list and revoke API keys (needs an admin key)');

  common(
    keys
      .command('create')
      .description('create an API key; the key is printed once and stored only as a hash')
      .option('--account <account...>', 'accounts the key acts for ("*" = all)', [])
      .option('--admin', 'admin scope: /cluster, /events, /metrics, key management, reading any payment')
      .option(
        '--rate-limit <n>',
        'requests per second per host (0 = unlimited; default: the host default)',
        nonNegativeInt,
      )
      .option('--label <text>', 'a note on whom the key is for'),
  ).action(
    async (options: O & { account: string[]; admin?: boolean; rateLimit?: number; label?: string }) => {
      const { print, api } = context(options);
      const answer = await api.json<KeyView & { key: string }>('/admin/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          accounts: options.account,
          scopes: options.admin ? ['admin'] : [],
          rateLimitPerSecond: options.rateLimit ?? null,
          ...(options.label ? { label: options.label } : {}),
        }),
      });
      const { key, ...view } = answer.body;
      print.result(answer.body, () => `${table([row(view)])}\n\nkey (shown once, keep it secret):\n${key}`);
    },
  );

  common(keys.command('list').description('every key, without secrets')).action(async (options: O) => {
    const { print, api } = context(options);
    const answer = await api.json<{ keys: KeyView[] }>('/admin/keys');
    print.result(answer.body, () =>
      answer.body.keys.length ? table(answer.body.keys.map(row)) : '(no keys)',
    );
  });

  common(
    keys.command('revoke').description('revoke a key on every host within ~1 s').argument('<id>', 'key id'),
  ).action(async (id: string, options: O) => {
    const { print, api } = context(options);
    const answer = await api.json<KeyView>(`/admin/keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
    print.result(answer.body, () => `revoked\n${table([row(answer.body)])}`);
  });
}
