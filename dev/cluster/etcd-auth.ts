/**
 * etcd's RBAC for a secured cluster, set up once after its first start:
 *
 *   user root            role root: everything (bootstrap, member add/remove, compaction,
 *                        defragmentation, tests and tools that use other key roots)
 *   role payments-host   readwrite on `<ledgerRoot>/` and nothing else
 *   user payments-host   that role: what every function host authenticates as
 *
 * then `auth enable`. Users are created without a password (etcd ≥ 3.4 `no_password`): they can
 * only authenticate by a client certificate whose CN is their name (--client-cert-auth).
 *
 * Idempotent, so it runs on every start: a restarted cluster already has the users and roles
 * (auth is then on, and the root certificate authenticates as root), and existing ones are kept.
 * The grant is reapplied, so a cluster started with a different LEDGER_ROOT also gets that prefix.
 */
import { type Etcd3, EtcdRoleExistsError, EtcdUserExistsError, Range } from 'etcd3';
import { HOST_USER, ROOT_USER } from './certificates';

export interface EtcdAuthOptions {
  /** A client authenticated as root (or any client, before auth is enabled). */
  client: Etcd3;
  /** Key root the host role may read and write, e.g. DEFAULT_ROOT from ledger/etcd/key-layout.ts. */
  ledgerRoot: string;
  /** Name of the host role and user. Default `payments-host`. */
  hostUser?: string;
}

export async function bootstrapEtcdAuth({
  client,
  ledgerRoot,
  hostUser = HOST_USER,
}: EtcdAuthOptions): Promise<void> {
  await addUser(client, ROOT_USER);
  await client.user(ROOT_USER).addRole('root');
  await client
    .role(hostUser)
    .create()
    .catch((error: unknown) => {
      if (!(error instanceof EtcdRoleExistsError)) throw error;
    });
  await grantPrefix(client, hostUser, ledgerRoot);
  await addUser(client, hostUser);
  await client.user(hostUser).addRole(hostUser);
  await client.auth.authEnable();
}

/** Gives `role` readwrite on `<root>/`: the trailing slash keeps `/pay/v2` from covering `/pay/v20`. */
export async function grantPrefix(client: Etcd3, role: string, root: string): Promise<void> {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  await client.role(role).grant({ permission: 'Readwrite', range: Range.prefix(prefix) });
}

async function addUser(client: Etcd3, name: string): Promise<void> {
  await client.auth
    .userAdd({ name, password: '', options: { no_password: true } })
    .catch((error: unknown) => {
      if (!(error instanceof EtcdUserExistsError)) throw error;
    });
}
