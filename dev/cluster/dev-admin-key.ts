/**
 * The local cluster's admin key: `npm start` issues it at first start and keeps it in
 * `<dataDir>/dev-admin-key` (mode 600, and only there: it is never written to a log), and payctl and `npm run keys` use it when no other key is
 * given. At a later start the same key is reused while etcd still holds its record (not revoked);
 * otherwise a new one is issued. Meant for a developer's machine, not for production.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseApiKey } from '../../functions/auth/api-key';
import { ADMIN_GRANT } from '../../functions/auth/api-key-record';
import type { ApiKeyStore } from '../../functions/auth/api-key-store';
import { issueApiKey } from '../../functions/auth/issue-api-key';

export const DEV_ADMIN_KEY_FILE = 'dev-admin-key';

/** The key stored in the data directory, if any. */
export function readDevAdminKey(dataDir: string): string | undefined {
  const file = join(dataDir, DEV_ADMIN_KEY_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Reuses the stored key while it is valid in etcd, or issues and stores a new one. */
export async function ensureDevAdminKey(
  store: ApiKeyStore,
  dataDir: string,
  createdAt: string,
): Promise<{ key: string; issued: boolean }> {
  const existing = readDevAdminKey(dataDir);
  const parsed = existing ? parseApiKey(existing) : undefined;
  if (existing && parsed) {
    const record = await store.get(parsed.id);
    if (record && !record.revokedAt) return { key: existing, issued: false };
  }
  const { key } = await issueApiKey(
    store,
    { ...ADMIN_GRANT, label: 'local cluster admin (npm start)' },
    createdAt,
  );
  const file = join(dataDir, DEV_ADMIN_KEY_FILE);
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  // `mode` applies only to a new file: an old one, however it was made, is closed now.
  chmodSync(file, 0o600);
  return { key, issued: true };
}

/**
 * What `npm start` says about the admin key (issue 17 §7): the key itself only once, when it was
 * just issued and the output is a terminal; a start log redirected to a file (often world-readable)
 * gets only where the key is kept, in a file that only its owner can read.
 */
export function adminKeyNotice({
  key,
  issued,
  file,
  terminal,
}: {
  key: string;
  issued: boolean;
  file: string;
  terminal: boolean;
}): string {
  if (issued && terminal) return `admin API key (shown this once; also in ${file}, mode 600): ${key}`;
  return `admin API key: in ${file} (mode 600; not printed${terminal ? ' again' : ', as this output is not a terminal'})`;
}
