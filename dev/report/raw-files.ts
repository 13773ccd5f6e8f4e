/**
 * The raw outputs `npm run report` keeps under docs/generated/report-figures/raw/, their shapes
 * (dev/report/CONTRACT.md, "Contract between the measurement commands and npm run
 * report") as zod schemas, and the one reader the renderer uses. The reader refuses a file of
 * another run: every raw file carries the run id the report passed with `--run-id`, and a figure
 * from an older run must not slip into a new report beside figures it was never measured with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { statSchema } from './stat';

/** What every measurement command's JSON carries (the contract's header). */
export const envelopeSchema = z.object({
  command: z.string(),
  startedAt: z.string(),
  commit: z.string(),
  runId: z.string(),
});

const figuresSchema = z.object({
  throughput: z.number(),
  p50: z.number(),
  p99: z.number(),
  errors: z.number(),
});
const benchRunSchema = z.object({
  name: z.string(),
  // A rate (payments/s), or "max" / "closed-loop" for the rows without one.
  offered: z.union([z.number(), z.string()]).optional(),
  figures: figuresSchema,
  paymentsPerTxn: z.number().optional(),
  cpuUsPerOp: z.record(z.string(), z.number()),
  stats: z.object({
    throughputPerS: statSchema,
    p50Ms: statSchema,
    p99Ms: statSchema,
    cpuUsPerOp: z.record(z.string(), statSchema),
  }),
});
/** A Stat with no sample: the bench writes it for a histogram that recorded nothing during the row. */
const emptyStatSchema = z.object({
  median: z.null(),
  min: z.null(),
  max: z.null(),
  samples: z.array(z.number()).max(0),
});
export const etcdMetricsSchema = z.object({
  walFsyncP99Ms: statSchema,
  backendCommitP99Ms: statSchema,
  // etcd 3.4 records a peer's round trip once every 30 s (rafthttp's status monitor), so a short
  // row may hold none.
  peerRttP99Ms: z.union([statSchema, emptyStatSchema]),
  proposalsPendingMax: statSchema,
  leaderChanges: statSchema,
  proposalsCommitted: statSchema,
  proposalsFailed: statSchema,
});
export const benchSchema = envelopeSchema.extend({
  members: z.number(),
  seconds: z.number(),
  runs: z.array(benchRunSchema),
  etcdMetrics: etcdMetricsSchema.optional(),
  storage: z
    .object({ perPaymentGrown: z.array(z.object({ member: z.string(), dbBytesPerPayment: z.number() })) })
    .partial()
    .passthrough()
    .optional(),
});
export type BenchRaw = z.infer<typeof benchSchema>;
export type BenchRun = z.infer<typeof benchRunSchema>;

export const timeSchema = envelopeSchema.extend({
  accuracy: z.array(
    z.object({
      condition: z.string(),
      leader: z.string(),
      maxAbsErrorMs: z.number(),
      boundMs: z.number(),
      withinBound: z.boolean(),
    }),
  ),
  convergence: z.object({
    condition: z.string(),
    series: z.array(z.object({ host: z.string(), points: z.array(z.tuple([z.number(), z.number()])) })),
  }),
  overhead: z.array(
    z.object({
      intervalMs: z.number(),
      errorP99Ms: z.number(),
      cpuMsPerS: z.number(),
      messagesPerS: z.number(),
    }),
  ),
  leaderKill: z.object({ clockStepMs: z.number(), committedAtInversions: z.number() }),
});
export type TimeRaw = z.infer<typeof timeSchema>;

export const clocksSchema = envelopeSchema.extend({
  skew: z.array(
    z.object({
      sync: z.enum(['off', 'on']),
      payments: z.number(),
      pairs: z.number(),
      inversions: z.number(),
      adjacentInversions: z.number(),
      hlcInversions: z.number(),
    }),
  ),
  reordering: z.object({
    events: z.number(),
    lateEvents: z.number(),
    delayAddedMs: statSchema,
    recorrected: z.number(),
    watermarkLagMs: statSchema,
  }),
});
export type ClocksRaw = z.infer<typeof clocksSchema>;

export const archivalSchema = envelopeSchema.extend({
  payments: z.number(),
  commitPerSecond: z.number(),
  archivedPerSecond: z.number(),
  etcdBytesPerPaymentPerMember: z.number(),
  pgBytesPerPayment: z.number(),
  historyHotP50Ms: z.number(),
  historyArchivedP50Ms: z.number(),
  etcdDbMaxBytes: z.number(),
  quotaBytes: z.number(),
});
export type ArchivalRaw = z.infer<typeof archivalSchema>;

export const electionsSchema = envelopeSchema.extend({
  members: z.number(),
  kills: z.array(z.object({ killed: z.string(), elected: z.string(), electionMs: z.number() })),
});
export type ElectionsRaw = z.infer<typeof electionsSchema>;

/** measure:failover's summary of each figure: {min, median, max, runs}. */
const failoverSummary = z.object({
  min: z.number(),
  median: z.number(),
  max: z.number(),
  runs: z.array(z.number()),
});
export const failoverSchema = envelopeSchema.extend({
  runs: z.number(),
  hostDetectionMs: failoverSummary,
  hostKillGapMs: failoverSummary,
  leaderReelectionMs: failoverSummary,
  etcdMemberDetectionMs: failoverSummary,
  etcdLeaderKillGapMs: failoverSummary,
  latencyHealthyMs: z.object({ p50: failoverSummary, p99: failoverSummary }),
  latencyOneMemberDownMs: z.object({ p50: failoverSummary, p99: failoverSummary }),
});
export type FailoverRaw = z.infer<typeof failoverSchema>;

export const partitionsSchema = envelopeSchema.extend({
  runs: z.number(),
  electionTimeoutMs: z.number(),
  faults: z.array(
    z.object({
      name: z.string(),
      describe: z.string(),
      target: z.object({ during: z.number(), afterHeal: z.number() }),
      duringMs: z.array(z.number()),
      afterHealMs: z.array(z.number()),
      electedAfterMs: z.array(z.number()),
    }),
  ),
  lost: z.number(),
});
export type PartitionsRaw = z.infer<typeof partitionsSchema>;

export const chaosSchema = envelopeSchema.extend({
  seed: z.number(),
  durationMs: z.number(),
  operations: z.number(),
  acknowledged: z.number(),
  failed: z.number(),
  conflicts: z.number(),
  indeterminate: z.number(),
  recordsRead: z.number(),
  readsChecked: z.number(),
  readsFailed: z.number(),
  violations: z.array(z.unknown()),
  impacts: z.array(
    z
      .object({
        kind: z.string(),
        dip: z.number(),
        worstSecondDip: z.number(),
        recoveryS: z.number().optional(),
      })
      .passthrough(),
  ),
});
export type ChaosRaw = z.infer<typeof chaosSchema>;

export const shardsSchema = envelopeSchema.extend({
  seconds: z.number(),
  concurrency: z.number(),
  one: statSchema,
  two: statSchema,
  balance: z.array(
    z.object({ shards: z.number(), ids: z.number(), maxOverMean: z.number(), minOverMean: z.number() }),
  ),
});
export type ShardsRaw = z.infer<typeof shardsSchema>;

/** Refuses a file measured in another run (or in none). */
export function checkRunId(file: string, found: unknown, runId: string): void {
  if (found !== runId)
    throw new Error(
      `${file} belongs to run ${JSON.stringify(found)}, not to this run ${runId}: re-measure it (npm run report -- --only ...)`,
    );
}

/** Reads and validates one raw JSON file of run `runId`. */
export function readRaw<S extends z.ZodType>(
  rawDir: string,
  file: string,
  schema: S,
  runId: string,
): z.infer<S> {
  const json: unknown = JSON.parse(readFileSync(join(rawDir, file), 'utf8'));
  checkRunId(file, (json as { runId?: unknown } | null)?.runId, runId);
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${file} does not have the contract's shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** raw/dashboard.json: the sidecar of raw/dashboard.png (npm run capture:dashboard). */
export const dashboardSchema = envelopeSchema.extend({ page: z.string() });
