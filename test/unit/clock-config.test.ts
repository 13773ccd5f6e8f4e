/** The clock settings a host reads from its environment (functions/config.ts). */
import { describe, expect, it } from 'vitest';
import { readHostConfig } from '../../functions/config';

describe('host clock configuration', () => {
  it('reads the simulated skew and the static cluster view', () => {
    const { clocks } = readHostConfig({
      CLOCK_OFFSET_MS: '-2000',
      CLOCK_DRIFT_PPM: '200',
      CLUSTER_HOSTS: 'h1=http://127.0.0.1:8081,h2=http://127.0.0.1:8082/',
      CLUSTER_LEADER: 'h2',
    });
    expect(clocks).toMatchObject({
      offsetMs: -2000,
      driftPpm: 200,
      syncEnabled: true,
      clusterLeader: 'h2',
      maxOffsetMs: 500,
    });
    expect(clocks.clusterHosts).toEqual([
      { id: 'h1', url: 'http://127.0.0.1:8081', since: '' },
      { id: 'h2', url: 'http://127.0.0.1:8082', since: '' },
    ]);
  });

  it('defaults to no skew, no view, the first host as leader when a view is given', () => {
    expect(readHostConfig({}).clocks).toMatchObject({ offsetMs: 0, driftPpm: 0, clusterHosts: undefined });
    expect(readHostConfig({ CLUSTER_HOSTS: 'a=http://x:1,b=http://y:2' }).clocks.clusterLeader).toBe('a');
  });

  it('rejects bad values with a message naming the setting', () => {
    expect(() => readHostConfig({ CLOCK_DRIFT_PPM: 'fast' })).toThrow(/CLOCK_DRIFT_PPM/);
    expect(() => readHostConfig({ CLOCK_SYNC: 'maybe' })).toThrow(/CLOCK_SYNC/);
    expect(() => readHostConfig({ CLUSTER_HOSTS: 'h1=http://x:1', CLUSTER_LEADER: 'h9' })).toThrow(
      /CLUSTER_LEADER/,
    );
    expect(() => readHostConfig({ CLUSTER_HOSTS: 'no-url' })).toThrow(/bad cluster host entry/);
  });
});
