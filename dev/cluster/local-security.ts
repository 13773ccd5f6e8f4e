/**
 * Whether the `npm start` cluster in a data directory runs secured (TLS, client certificates,
 * RBAC) or plain, remembered in `<dataDir>/etcd-security.json`.
 *
 * The mode cannot change under existing member data: etcd stores its peer URLs (http:// or
 * https://) in the data directory and ignores the --initial-* flags afterwards, so a cluster
 * created plain and restarted secured (or the reverse) never reaches its peers. The mode is
 * therefore fixed when the data is created, and a mismatch is refused with a clear message.
 * `npm run cluster` reads the same file, so it needs no flag.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePki, type Pki } from './certificates';

export const SECURITY_FILE_NAME = 'etcd-security.json';

type Mode = 'secured' | 'plain';

export interface LocalSecurityOptions {
  dataDir: string;
  /** Member names (their data lives in <dataDir>/<name>). */
  members: string[];
  /** Mode asked for: secured unless --insecure-etcd. Undefined: whatever the data was created with. */
  want?: Mode;
}

/** The PKI of a secured local cluster (created on first start), or undefined for a plain one. */
export async function localEtcdSecurity({
  dataDir,
  members,
  want,
}: LocalSecurityOptions): Promise<Pki | undefined> {
  const file = join(dataDir, SECURITY_FILE_NAME);
  const hasData = members.some((m) => existsSync(join(dataDir, m, 'member')));
  // Data made before this file existed was made plain.
  const recorded: Mode | undefined = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { mode: Mode }).mode
    : hasData
      ? 'plain'
      : undefined;
  const mode = want ?? recorded ?? 'secured';
  if (hasData && recorded && recorded !== mode) {
    throw new Error(
      `the etcd data in ${dataDir} was created ${recorded}, and etcd keeps its peer URLs in its data: ` +
        (recorded === 'plain'
          ? 'start with --insecure-etcd, or remove the data directory to start afresh, secured'
          : 'start without --insecure-etcd, or remove the data directory to start afresh, plain'),
    );
  }
  writeFileSync(file, `${JSON.stringify({ mode })}\n`);
  return mode === 'secured' ? ensurePki({ dir: join(dataDir, 'pki'), members }) : undefined;
}
