/**
 * The host's clock: every timestamp a host produces comes from a Clock, never from Date.now()
 * directly, so that clock synchronization (and simulated skew in tests) has one place to act.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as this host believes it to be. */
  now(): number;
}

/** The machine's own clock, uncorrected. */
export const systemClock: Clock = { now: () => Date.now() };

/** ISO-8601 UTC rendering of a clock reading, the format stored in `committedAt`. */
export const isoTimestamp = (clock: Clock): string => new Date(clock.now()).toISOString();
