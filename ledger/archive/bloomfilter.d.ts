/**
 * Types for the `bloomfilter` package (1.1.0, ESM, untyped; @types/bloomfilter describes an older
 * API): only what ledger/archive/archived-ids.ts uses.
 */
declare module 'bloomfilter' {
  export class BloomFilter {
    /** `m` bits (rounded up to 32), or the 32-bit words of a stored filter; `k` hash functions. */
    constructor(m: number | ArrayLike<number>, k: number);
    readonly m: number;
    readonly k: number;
    readonly buckets: Uint32Array;
    add(value: string): void;
    test(value: string): boolean;
  }
}
