/**
 * A stand-in host serving GET /cluster and GET /events in the shapes the membership and
 * event-log work documents (issues 3 and 4), plus the dashboard: it lets the payctl and dashboard
 * tests pin their side of that contract on any branch. The real endpoints have their own tests.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { dashboardRoutes } from '../../functions/dashboard/routes';

export const FAKE_EVENTS = Array.from({ length: 5 }, (_, i) => ({
  seq: i,
  at: `2026-01-01T00:00:0${i}.000Z`,
  type: i === 2 ? 'leader-elected' : 'host-joined',
  host: `h${(i % 3) + 1}`,
}));

export const FAKE_CLUSTER = {
  hosts: [
    {
      id: 'h1',
      url: 'http://127.0.0.1:1',
      alive: true,
      since: '2026-01-01T00:00:00.000Z',
      clockOffsetMs: 0.4,
    },
    { id: 'h2', url: 'http://127.0.0.1:2', alive: false, since: '2026-01-01T00:00:00.000Z' },
  ],
  leader: { id: 'h1', since: '2026-01-01T00:00:01.000Z', fencingToken: '42' },
  etcd: {
    members: [
      {
        name: 'n1',
        clientUrl: 'http://127.0.0.1:3',
        healthy: true,
        isLeader: true,
        raftTerm: 7,
        raftIndex: 99,
      },
      {
        name: 'n2',
        clientUrl: 'http://127.0.0.1:4',
        healthy: false,
        isLeader: false,
        raftTerm: null,
        raftIndex: null,
      },
    ],
  },
};

export interface FakeHost {
  url: string;
  /** The `from` of every GET /events, in order (absent = 0). */
  fromAsked: string[];
  close(): void;
}

export async function startFakeHost(): Promise<FakeHost> {
  const fromAsked: string[] = [];
  const app = new Hono();
  app.get('/cluster', (c) => c.json(FAKE_CLUSTER));
  // Pages of two; `next` is where the following page starts.
  app.get('/events', (c) => {
    // A sequence number from an earlier page's `next`; a time (the dashboard's "last minute")
    // reads from the start, since the fake's events carry no times.
    const asked = c.req.query('from') ?? '0';
    const from = /^\d+$/.test(asked) ? Number(asked) : 0;
    fromAsked.push(String(from));
    const page = FAKE_EVENTS.filter((e) => e.seq >= from).slice(0, 2);
    return c.json({ events: page, next: from + page.length });
  });
  app.route('/dashboard', dashboardRoutes());
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fromAsked,
    close: () => server.close(),
  };
}
