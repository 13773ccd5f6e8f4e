/**
 * A minimal NTP server (RFC 5905 server mode, stratum 2) on loopback UDP for tests: it answers
 * every client request with the machine's time plus `offsetMs`, so a test knows the true answer.
 * `stop()` silences it (the reference is lost); `close()` frees the port.
 */
import { createSocket, type Socket } from 'node:dgram';
import { machineTime } from '../../coordination/clock/clock';

const NTP_EPOCH_OFFSET_S = 2_208_988_800; // 1900-01-01 to 1970-01-01

function writeTimestamp(buffer: Buffer, at: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  buffer.writeUInt32BE(seconds + NTP_EPOCH_OFFSET_S, at);
  buffer.writeUInt32BE(Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32), at + 4);
}

export class TestSntpServer {
  offsetMs: number;
  answering = true;
  requests = 0;
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    offsetMs: number,
  ) {
    this.offsetMs = offsetMs;
  }

  static async start({ offsetMs = 0 }: { offsetMs?: number } = {}): Promise<TestSntpServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const server = new TestSntpServer(socket, socket.address().port, offsetMs);
    socket.on('message', (request, from) => server.answer(request, from.port, from.address));
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private answer(request: Buffer, port: number, address: string): void {
    if (!this.answering || request.length < 48) return;
    this.requests += 1;
    const received = machineTime() + this.offsetMs;
    const reply = Buffer.alloc(48);
    reply[0] = (0 << 6) | (4 << 3) | 4; // leap 0, version 4, mode 4 (server)
    reply[1] = 2; // stratum 2
    reply[2] = request[2] ?? 6;
    reply[3] = 0xec; // precision 2^-20 s
    reply.write('TEST', 12, 'latin1');
    writeTimestamp(reply, 16, received);
    request.copy(reply, 24, 40, 48); // originate = the client's transmit timestamp
    writeTimestamp(reply, 32, received);
    writeTimestamp(reply, 40, machineTime() + this.offsetMs);
    this.socket.send(reply, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
