/**
 * `npm start` ran chronyd on a fixed UDP port (11123): a second launcher, or anything else on that
 * port, made chronyd fail to bind and left the cluster without its NTP reference. The port is now
 * the preferred one only while it is free.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../dev/cluster/free-udp-port';

const held: Socket[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** Binds a UDP socket on 127.0.0.1 (port 0: any) and keeps it until the test ends. */
async function hold(port = 0): Promise<number> {
  const socket = createSocket('udp4');
  held.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', resolve);
  });
  return socket.address().port;
}

describe('freeUdpPort (chrony port of npm start was fixed)', () => {
  it('does not choose a preferred UDP port another process holds, and returns one that binds', async () => {
    const busy = await hold();
    const port = await freeUdpPort(busy);
    expect(port).not.toBe(busy);
    await expect(hold(port)).resolves.toBe(port);
  });

  it('keeps the preferred port while it is free', async () => {
    const free = await hold();
    await new Promise<void>((r) => held.pop()!.close(() => r()));
    expect(await freeUdpPort(free)).toBe(free);
  });
});
