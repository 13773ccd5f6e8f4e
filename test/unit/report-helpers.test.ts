/**
 * The report generator's pure helpers: the machine line every figure carries, template filling
 * (a placeholder without a value must fail, not vanish), and hash sharding of payment ids.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeMachine, parseEtcdVersion } from '../../dev/report/machine';
import { shardBalance, shardOf } from '../../dev/report/shard-balance';
import { captionSvg } from '../../dev/report/svg-caption';
import { fillTemplate, markdownTable } from '../../dev/report/template';

describe('describeMachine', () => {
  it('names CPU, cores, memory, Node and etcd versions and the date', () => {
    const line = describeMachine({
      cpuModel: ' AMD EPYC 7B13 ',
      cores: 2,
      memoryBytes: 8 * 2 ** 30,
      node: 'v20.20.2',
      etcd: '3.5.16',
      date: '2026-11-25T07:53:34.532Z',
    });
    expect(line).toBe(
      '2 × AMD EPYC 7B13, 8.0 GiB RAM, Node v20.20.2, etcd 3.5.16, measured 2026-11-25 07:53 UTC',
    );
  });

  it('reads the version from etcd --version output', () => {
    expect(parseEtcdVersion('etcd Version: 3.5.16\nGit SHA: Not provided\nGo Version: go1.22\n')).toBe(
      '3.5.16',
    );
    expect(parseEtcdVersion('garbage')).toBe('unknown');
  });
});

describe('fillTemplate', () => {
  it('fills every placeholder, with or without inner spaces, repeatedly', () => {
    expect(fillTemplate('{{a}} and {{ b.c }} and {{a}}', { a: 1, 'b.c': 'x' })).toBe('1 and x and 1');
  });

  it('fails on a placeholder without a value, naming it', () => {
    expect(() => fillTemplate('{{a}} {{missing}}', { a: 1 })).toThrow(/missing/);
  });

  it('leaves text without placeholders untouched', () => {
    expect(fillTemplate('no {braces} here', {})).toBe('no {braces} here');
  });
});

describe('markdownTable', () => {
  it('renders a header, a separator and one line per row', () => {
    expect(
      markdownTable([
        { a: 1, b: 'x' },
        { a: 2, b: 'y' },
      ]),
    ).toBe('| a | b |\n| --- | --- |\n| 1 | x |\n| 2 | y |\n');
  });
});

describe('hash sharding', () => {
  it('maps an id to the same shard every time, within range', () => {
    for (const id of ['order-1', 'order-2', randomUUID()]) {
      const shard = shardOf(id, 4);
      expect(shard).toBe(shardOf(id, 4));
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(4);
    }
    expect(shardOf('anything', 1)).toBe(0);
    expect(() => shardOf('x', 0)).toThrow();
  });

  it('spreads random ids within a few percent of even', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    const balance = shardBalance(ids, 4);
    expect(balance.maxOverMean).toBeLessThan(1.1);
    expect(balance.minOverMean).toBeGreaterThan(0.9);
  });

  it('reports imbalance when ids all land together', () => {
    const same = Array.from({ length: 100 }, () => 'one-id');
    expect(shardBalance(same, 4).maxOverMean).toBe(4);
  });
});

describe('captionSvg', () => {
  it('grows the plot by the strip and writes the escaped caption under it', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50"/></svg>';
    const out = captionSvg(svg, 'Machine: 2 × <cpu> & more', 20);
    expect(out).toContain('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="70">');
    expect(out).toContain('<rect width="100" height="50"/>');
    expect(out).toContain('y="64"');
    expect(out).toContain('Machine: 2 × &lt;cpu&gt; &amp; more');
    expect(out.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('refuses something that is not an SVG with a height', () => {
    expect(() => captionSvg('<div/>', 'x')).toThrow();
  });
});
