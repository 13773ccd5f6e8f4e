/**
 * The host's configuration, read from the environment once, at start-up, and nowhere below.
 *
 *   HOST_ID                  id recorded on committed payments          default host-<port>
 *   HOST_PORT                HTTP port                                  default 8081
 *   HOST_BIND                address to listen on                       default 127.0.0.1
 *   ETCD_ENDPOINTS           comma-separated etcd client URLs           default http://127.0.0.1:2379
 *   ETCD_CALL_DEADLINE_MS    deadline of one etcd call on one member    default 1500
 *   REQUEST_DEADLINE_MS      bound on one ledger operation, retries in  default 5000
 *   LEDGER_ROOT              etcd key root of the ledger                default /pay/v1
 *   LOG_LEVEL                fatal|error|warn|info|debug|trace|silent   default info
 */
import { z } from 'zod';
import { DEFAULT_ROOT } from '../ledger/key-layout';
import { LOG_LEVELS, type LogLevel } from './logger';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  HOST_PORT: positiveInt(8081),
  HOST_BIND: z.string().default('127.0.0.1'),
  HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/)
    .optional(),
  ETCD_ENDPOINTS: z.string().default('http://127.0.0.1:2379'),
  ETCD_CALL_DEADLINE_MS: positiveInt(1500),
  REQUEST_DEADLINE_MS: positiveInt(5000),
  LEDGER_ROOT: z.string().startsWith('/').default(DEFAULT_ROOT),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export interface HostConfig {
  hostId: string;
  port: number;
  bind: string;
  etcdEndpoints: string[];
  etcdCallDeadlineMs: number;
  requestDeadlineMs: number;
  ledgerRoot: string;
  logLevel: LogLevel;
}

export function readHostConfig(env: NodeJS.ProcessEnv): HostConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`bad host configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    hostId: e.HOST_ID ?? `host-${e.HOST_PORT}`,
    port: e.HOST_PORT,
    bind: e.HOST_BIND,
    etcdEndpoints: e.ETCD_ENDPOINTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    etcdCallDeadlineMs: e.ETCD_CALL_DEADLINE_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    ledgerRoot: e.LEDGER_ROOT,
    logLevel: e.LOG_LEVEL,
  };
}
