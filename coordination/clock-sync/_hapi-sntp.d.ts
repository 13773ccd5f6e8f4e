/** Types for the parts of @hapi/sntp (which ships none) that coordination/clock-sync/ntp-reference.ts uses. */
declare module '@hapi/sntp' {
  export interface SntpTimeOptions {
    host: string;
    port: number;
    /** ms; default none. */
    timeout?: number;
    resolveReference?: boolean;
  }
  /** One NTP response (RFC 5905 packet fields, in ms), with the exchange's delay and offset. */
  export interface SntpTime {
    /** Offset of this machine's clock (Date.now) from the server: ((T2 − T1) + (T3 − T4)) / 2, ms. */
    t: number;
    /** Round-trip delay: (T4 − T1) − (T3 − T2), ms. */
    d: number;
    stratum: string;
    rootDelay: number;
    rootDispersion: number;
    /** T2 and T3: when the server received the request and sent the answer, ms since the epoch (fractional). */
    receiveTimestamp: number;
    transmitTimestamp: number;
    leapIndicator: string;
    isValid: boolean;
  }
  export function time(options: SntpTimeOptions): Promise<SntpTime>;
}
