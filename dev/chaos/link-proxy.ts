/**
 * A TCP proxy on one link of the cluster (an etcd peer port, or one host's link to one etcd
 * member), which the nemesis uses to cut links deterministically on loopback.
 *
 * A cut link behaves like a network partition that drops packets: open connections are torn
 * down, and new ones are accepted but blackholed (their bytes go nowhere, nothing comes back)
 * until the link heals, so callers see timeouts rather than quick refusals.
 *
 * For etcd peer links the proxy can tell who is calling: etcd's rafthttp transport sends the
 * sender's member id in an `X-Server-From` header on every stream and pipeline request, so one
 * proxy in front of a member can cut the link from one member while the others still pass.
 *
 * On a secured cluster the peer links are TLS, and the header is encrypted: a proxy that must
 * identify senders is then given `tls`, and terminates TLS (it holds a certificate for the
 * member it fronts, and one of its own to dial the member with, both from the cluster's CA).
 * Proxies that need not identify anyone stay plain TCP and pass TLS through untouched.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { type LinkDelays, pipeDelayed } from './link-delay';
import { seededRandom } from './workload';

export interface LinkProxyOptions {
  /** Name for logs, e.g. `peer n2` or `h1->n3`. */
  name: string;
  listenPort: number;
  targetPort: number;
  /** Loopback address for both sides. Default 127.0.0.1. */
  host?: string;
  /** Read the HTTP request head to learn the etcd sender (X-Server-From). Default false. */
  identifySender?: boolean;
  /**
   * Terminate TLS: accept with `server` (requiring a client certificate) and dial the target
   * with `client`. Default none: bytes pass through.
   */
  tls?: { server: tls.TlsOptions; client: tls.ConnectionOptions };
  /** Delay, jitter and loss per direction (`forward`: to the target), dev/chaos/link-delay.ts. Default none. */
  delays?: LinkDelays;
}

/** Decides whether a connection from `sender` (undefined when unknown) is cut. */
export type CutRule = (sender: string | undefined) => boolean;

const NOTHING_CUT: CutRule = () => false;
/** Most bytes read while looking for the end of the first request head. */
const MAX_HEAD_BYTES = 16 * 1024;

interface Link {
  sender: string | undefined;
  client: Socket;
  upstream?: Socket;
  blackholed: boolean;
}

export class LinkProxy {
  readonly name: string;
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private rule: CutRule = NOTHING_CUT;
  private readonly random: () => number;

  constructor(private readonly options: LinkProxyOptions) {
    this.name = options.name;
    this.random = seededRandom(options.delays?.seed ?? 1);
    this.server = options.tls
      ? tls.createServer({ ...options.tls.server, requestCert: true, rejectUnauthorized: true }, (socket) =>
          this.accept(socket),
        )
      : createServer((socket) => this.accept(socket));
    // A failed handshake (a client the proxy refuses) is that client's problem, not the proxy's.
    this.server.on('tlsClientError', () => {});
  }

  get port(): number {
    return this.options.listenPort;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listenPort, this.options.host ?? '127.0.0.1', () => resolve());
    });
  }

  /** Cuts every connection the rule matches, now and until the next `cut` or `heal`. */
  cut(rule: CutRule = () => true): void {
    this.rule = rule;
    for (const link of this.links) if (!link.blackholed && rule(link.sender)) this.drop(link);
  }

  /** Lets everything through again; blackholed connections are closed so their owners reconnect. */
  heal(): void {
    this.rule = NOTHING_CUT;
    for (const link of this.links) if (link.blackholed) this.drop(link);
  }

  get isCut(): boolean {
    return this.rule !== NOTHING_CUT;
  }

  async close(): Promise<void> {
    for (const link of this.links) this.drop(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => this.drop(link));
    client.on('close', () => this.drop(link));
    const link: Link = { sender: undefined, client, blackholed: false };
    this.links.add(link);
    if (!this.options.identifySender) {
      this.route(link, Buffer.alloc(0));
      return;
    }
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD_BYTES) return;
      client.off('data', onData);
      const text = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
      link.sender = /\r\nX-Server-From: *([0-9a-f]+)/i.exec(text)?.[1]?.toLowerCase();
      this.route(link, head);
    };
    client.on('data', onData);
  }

  /** Either blackholes the connection or pipes it to the target, replaying what was read. */
  private route(link: Link, alreadyRead: Buffer): void {
    if (this.rule(link.sender)) {
      link.blackholed = true;
      link.client.resume(); // read and discard, answer nothing
      return;
    }
    const host = this.options.host ?? '127.0.0.1';
    const upstream = this.options.tls
      ? tls.connect({ ...this.options.tls.client, port: this.options.targetPort, host })
      : connect(this.options.targetPort, host);
    link.upstream = upstream;
    upstream.on('error', () => this.drop(link));
    upstream.on('close', () => this.drop(link));
    if (alreadyRead.length > 0) upstream.write(alreadyRead);
    const { delays } = this.options;
    pipeDelayed(link.client, upstream, delays?.forward, this.random, delays?.retransmitMs);
    pipeDelayed(upstream, link.client, delays?.back, this.random, delays?.retransmitMs);
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}
