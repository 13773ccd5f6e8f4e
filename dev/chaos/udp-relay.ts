/**
 * A UDP relay on loopback with delay, jitter and loss per direction (dev/chaos/link-delay.ts), to
 * put network conditions between the time master and its NTP reference. Each client address gets
 * its own socket towards the target, so answers find their way back. Datagrams are independent:
 * with jitter they may overtake each other, as on a real network.
 */
import { createSocket, type Socket } from 'node:dgram';
import { type LinkDelays, sampleDelayMs } from './link-delay';
import { seededRandom } from './workload';

export interface UdpRelayOptions {
  targetPort: number;
  /** Port to listen on. Default 0: one the OS picks. */
  listenPort?: number;
  /** Loopback address of both sides. Default 127.0.0.1. */
  host?: string;
  /** Delays per direction; `forward` is client → target. Default none. */
  delays?: LinkDelays;
}

export class UdpRelay {
  /** Datagrams relayed and dropped, per direction. */
  readonly counts = { forward: 0, back: 0, lost: 0 };
  delays: LinkDelays | undefined;
  private readonly clients = new Map<string, Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    private readonly options: UdpRelayOptions,
  ) {
    this.delays = options.delays;
    this.random = seededRandom(options.delays?.seed ?? 1);
  }

  static async start(options: UdpRelayOptions): Promise<UdpRelay> {
    const socket = createSocket('udp4');
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => socket.bind(options.listenPort ?? 0, host, resolve));
    const relay = new UdpRelay(socket, socket.address().port, options);
    socket.on('message', (message, from) => relay.forward(message, from.address, from.port));
    return relay;
  }

  get address(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  private later(ms: number | undefined, send: () => void): void {
    if (ms === undefined) {
      this.counts.lost += 1;
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, ms);
    this.timers.add(timer);
  }

  private forward(message: Buffer, address: string, port: number): void {
    const host = this.options.host ?? '127.0.0.1';
    const key = `${address}:${port}`;
    let upstream = this.clients.get(key);
    if (!upstream) {
      const socket = createSocket('udp4');
      socket.on('message', (answer) => {
        const delay = this.delays ? sampleDelayMs(this.delays.back, this.random) : 0;
        this.later(delay, () => {
          this.counts.back += 1;
          this.socket.send(answer, port, address);
        });
      });
      socket.on('error', () => {});
      this.clients.set(key, socket);
      upstream = socket;
    }
    const out = upstream;
    const delay = this.delays ? sampleDelayMs(this.delays.forward, this.random) : 0;
    this.later(delay, () => {
      this.counts.forward += 1;
      out.send(message, this.options.targetPort, host);
    });
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.clients.values()) socket.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
