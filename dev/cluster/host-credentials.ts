/**
 * What a function host may read (issue 17 §5): at run time it needs the CA certificate and its own
 * etcd client certificate and key, and nothing else of the PKI. The launcher copies those three
 * into a directory of their own, the key 0600, and, when the launcher runs as root, hands them to
 * an unprivileged account that it runs the hosts as. That account cannot read the PKI directory
 * (0700, root's), so a compromised host cannot reach the CA keys or the root user's key, and with
 * them a certificate that etcd would take for root.
 */
import { chmodSync, chownSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsFiles } from './certificates';
import { makeTraversable, type ServerUser, serverUser } from './postgres-server';

/** The account hosts run as when the launcher is root: `nobody` unless told otherwise. */
export const DEFAULT_HOST_ACCOUNT = 'nobody';

/** The account to run hosts as: an unprivileged one when this process is root, else none (its own). */
export const hostAccount = (name = DEFAULT_HOST_ACCOUNT): ServerUser | undefined => serverUser(name);

/**
 * Copies the host's three TLS files into `dir` (0700; the key 0600), owned by `owner` when given,
 * and returns their paths there. With an owner, every directory above `dir` is made searchable
 * by others (o+x, not readable) so that the owner reaches its files.
 */
export function installHostCredentials(files: TlsFiles, dir: string, owner?: ServerUser): TlsFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const installed: TlsFiles = {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'host.pem'),
    keyFile: join(dir, 'host-key.pem'),
  };
  copyFileSync(files.caFile, installed.caFile);
  copyFileSync(files.certFile, installed.certFile);
  copyFileSync(files.keyFile, installed.keyFile);
  chmodSync(installed.caFile, 0o644);
  chmodSync(installed.certFile, 0o644);
  chmodSync(installed.keyFile, 0o600);
  if (owner) {
    for (const path of [dir, installed.caFile, installed.certFile, installed.keyFile]) {
      chownSync(path, owner.uid, owner.gid);
    }
    makeTraversable(dir);
  }
  return installed;
}
