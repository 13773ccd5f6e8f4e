/**
 * User-space network delay (issue 16): the TCP link proxy and the UDP relay each delay their two
 * directions as configured, asymmetrically too, keep TCP's byte order under jitter, and lose
 * datagrams at the configured rate, repeatably from a seed.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleDelayMs } from '../../dev/chaos/link-delay';
import { LinkProxy } from '../../dev/chaos/link-proxy';
import { UdpRelay } from '../../dev/chaos/udp-relay';
import { seededRandom } from '../../dev/chaos/workload';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('delay model', () => {
  it('draws delays within delay ± jitter, repeatably from a seed, with the configured loss', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 2000 }, () =>
        sampleDelayMs({ delayMs: 5, jitterMs: 2, loss: 0.1 }, random),
      );
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    const kept = a.filter((d): d is number => d !== undefined);
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...kept)).toBeLessThanOrEqual(7);
    expect(a.length - kept.length).toBeGreaterThan(140);
    expect(a.length - kept.length).toBeLessThan(260);
  });
});

describe('TCP link proxy with delays', () => {
  it('delays 1 ms one way and 9 ms back, and keeps the bytes in order under jitter', async () => {
    const echo: Server = createServer((s) => s.pipe(s));
    const echoPort = await getPort();
    await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => echo.close(r)));
    const proxy = new LinkProxy({
      name: 'delayed',
      listenPort: await getPort(),
      targetPort: echoPort,
      delays: { forward: { delayMs: 1, jitterMs: 1 }, back: { delayMs: 9, jitterMs: 1 }, seed: 3 },
    });
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const socket = connect(proxy.port, '127.0.0.1');
    cleanups.push(async () => {
      socket.destroy();
    });
    await new Promise((r) => socket.once('connect', r));
    const rtts: number[] = [];
    let received = '';
    for (let i = 0; i < 10; i++) {
      const sent = performance.now();
      const text = `m${i};`;
      socket.write(text);
      await new Promise<void>((resolve) => {
        const onData = (chunk: Buffer) => {
          received += chunk.toString();
          if (received.endsWith(text)) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
      });
      rtts.push(performance.now() - sent);
    }
    expect(received).toBe(Array.from({ length: 10 }, (_, i) => `m${i};`).join(''));
    // 0..2 ms + 8..10 ms; Node's timers may fire up to ~1 ms early against performance.now().
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(7);
  });
});

describe('UDP relay with delays', () => {
  it('delays each direction as configured and drops what it loses', async () => {
    const target = createSocket('udp4');
    await new Promise<void>((r) => target.bind(0, '127.0.0.1', r));
    target.on('message', (m, from) => target.send(m, from.port, from.address));
    cleanups.push(() => new Promise<void>((r) => target.close(() => r())));
    const relay = await UdpRelay.start({
      targetPort: target.address().port,
      delays: { forward: { delayMs: 9 }, back: { delayMs: 1 }, seed: 5 },
    });
    cleanups.push(() => relay.close());
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => client.close(() => r())));
    const sent = performance.now();
    const answered = new Promise((resolve) => client.once('message', resolve));
    client.send('ping', relay.port, '127.0.0.1');
    await answered;
    // 10 ms configured; Node's timers may fire up to ~1 ms early against performance.now() (9.97 seen).
    expect(performance.now() - sent).toBeGreaterThanOrEqual(9);
    expect(relay.counts).toMatchObject({ forward: 1, back: 1, lost: 0 });
    relay.delays = { forward: { delayMs: 0, loss: 1 }, back: { delayMs: 0 } };
    client.send('lost', relay.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    expect(relay.counts.lost).toBe(1);
  });
});
