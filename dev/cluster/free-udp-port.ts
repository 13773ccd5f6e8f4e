/**
 * A free loopback UDP port, for a server we start that listens on UDP (chronyd's NTP). get-port
 * (dev/cluster/free-port.ts) checks TCP only, and a port free for TCP may be taken for UDP. The
 * `preferred` port is tried first, so `npm start` keeps a familiar port when it can; otherwise
 * random candidates below Linux's ephemeral range (32768+), as free-port.ts picks them.
 */
import { createSocket } from 'node:dgram';

/** True when a UDP socket can bind `port` on 127.0.0.1 right now (it is closed again). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

export async function freeUdpPort(preferred?: number): Promise<number> {
  if (preferred !== undefined && (await bindable(preferred))) return preferred;
  for (let i = 0; i < 64; i++) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_700);
    if (candidate !== preferred && (await bindable(candidate))) return candidate;
  }
  throw new Error('no free UDP port on 127.0.0.1 after 64 tries');
}
