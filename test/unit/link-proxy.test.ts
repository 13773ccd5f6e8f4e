/**
 * The chaos harness's link proxy: it passes bytes both ways, cuts only the senders a rule names
 * (by etcd's X-Server-From header), blackholes cut links instead of refusing them, and heals;
 * on TLS links (a secured cluster's peer ports) it terminates TLS to read that header.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkProxy } from '../../dev/chaos/link-proxy';
import { ensurePki, readTlsFiles } from '../../dev/cluster/certificates';

let echo: Server;
let proxy: LinkProxy;
const sockets: Socket[] = [];

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  const echoPort = await getPort();
  await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', () => r()));
  proxy = new LinkProxy({
    name: 'test',
    listenPort: await getPort(),
    targetPort: echoPort,
    identifySender: true,
  });
  await proxy.listen();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await proxy?.close();
  await new Promise((r) => echo.close(r));
});

/** Opens a connection as `sender` and resolves with what came back within `waitMs`, and whether it closed. */
function exchange(sender: string, waitMs = 400): Promise<{ reply: string; closed: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(proxy.port, '127.0.0.1');
    sockets.push(socket);
    let reply = '';
    let closed = false;
    socket.on('data', (d) => {
      reply += d.toString();
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => {});
    socket.write(`GET /raft/stream/msgapp HTTP/1.1\r\nX-Server-From: ${sender}\r\n\r\n`);
    setTimeout(() => resolve({ reply, closed, socket }), waitMs);
  });
}

describe('link proxy', () => {
  it('passes traffic, cuts one sender only, blackholes it, and heals', async () => {
    const before = await exchange('aa');
    expect(before.reply).toContain('X-Server-From: aa');

    proxy.cut((sender) => sender === 'aa');
    // The open connection from the cut sender is torn down; a new one is accepted but gets nothing.
    await new Promise((r) => setTimeout(r, 100));
    expect(before.socket.destroyed || before.socket.readableEnded).toBe(true);
    const cut = await exchange('aa');
    expect(cut.reply).toBe('');
    expect(cut.closed).toBe(false);
    expect((await exchange('bb')).reply).toContain('X-Server-From: bb');

    proxy.heal();
    await new Promise((r) => setTimeout(r, 100));
    expect(cut.socket.destroyed || cut.socket.readableEnded).toBe(true); // so its owner reconnects
    expect((await exchange('aa')).reply).toContain('X-Server-From: aa');
  });

  it('cuts everyone, unknown senders included, when given no rule', async () => {
    proxy.cut();
    const anonymous = await new Promise<string>((resolve) => {
      const socket = connect(proxy.port, '127.0.0.1');
      sockets.push(socket);
      let reply = '';
      socket.on('data', (d) => {
        reply += d.toString();
      });
      socket.write('GET /health HTTP/1.1\r\n\r\n');
      setTimeout(() => resolve(reply), 400);
    });
    expect(anonymous).toBe('');
    proxy.heal();
  });
});

describe('link proxy on a TLS link', () => {
  it('terminates TLS, identifies and cuts one sender, and refuses a client without a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payments-proxy-tls-'));
    const pki = await ensurePki({ dir, members: ['n1', 'n2'] });
    const member = readTlsFiles(pki.member('n1'));
    const sender = readTlsFiles(pki.member('n2'));
    // The "member": a TLS echo server that, like etcd's peer port, wants a client certificate.
    const target = tls.createServer({ ...member, requestCert: true, rejectUnauthorized: true }, (s) =>
      s.pipe(s),
    );
    const targetPort = await getPort();
    await new Promise<void>((r) => target.listen(targetPort, '127.0.0.1', () => r()));
    const tlsProxy = new LinkProxy({
      name: 'tls',
      listenPort: await getPort(),
      targetPort,
      identifySender: true,
      tls: { server: member, client: readTlsFiles(await pki.issueUser('link-proxy')) },
    });
    await tlsProxy.listen();
    const open: tls.TLSSocket[] = [];
    const talk = (from: string, identity: { cert?: Buffer; key?: Buffer } = sender) =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ port: tlsProxy.port, host: '127.0.0.1', ca: member.ca, ...identity });
        open.push(socket);
        let reply = '';
        socket.on('data', (d) => {
          reply += d.toString();
        });
        socket.on('error', () => {});
        socket.write(`GET /raft/stream/msgapp HTTP/1.1\r\nX-Server-From: ${from}\r\n\r\n`);
        setTimeout(() => resolve(reply), 500);
      });
    try {
      expect(await talk('aa')).toContain('X-Server-From: aa');
      tlsProxy.cut((s) => s === 'aa');
      expect(await talk('aa')).toBe('');
      expect(await talk('bb')).toContain('X-Server-From: bb');
      tlsProxy.heal();
      expect(await talk('aa', {})).toBe(''); // no client certificate: the handshake fails
    } finally {
      for (const s of open) s.destroy();
      await tlsProxy.close();
      await new Promise((r) => target.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
