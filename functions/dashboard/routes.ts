/**
 * GET /dashboard on any host: one page for the person on call. The page is static HTML plus a
 * small preact + htm script (dashboard.js) that polls the hosts' own JSON endpoints. Its
 * libraries are served from the installed npm packages, never from a CDN, so it works on a
 * closed network and its versions are the lockfile's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Handler, Hono } from 'hono';
import type { EtcdMemberStatus } from '../../coordination/cluster/etcd-members';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** An installed package's root: found from its main entry, since some packages do not export package.json. */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || basename(dir) !== name) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the root of package ${name}`);
    dir = parent;
  }
  return dir;
}

/** Every file the page may load, by the name it is served under. */
export const ASSETS: Record<string, { file: () => string; type: string }> = {
  'dashboard.js': { file: () => join(here, 'dashboard.js'), type: 'text/javascript' },
  'dashboard.css': { file: () => join(here, 'dashboard.css'), type: 'text/css' },
  'preact.mjs': { file: () => join(packageDir('preact'), 'dist/preact.mjs'), type: 'text/javascript' },
  'hooks.mjs': { file: () => join(packageDir('preact'), 'hooks/dist/hooks.mjs'), type: 'text/javascript' },
  'htm.mjs': { file: () => join(packageDir('htm'), 'dist/htm.mjs'), type: 'text/javascript' },
  'uplot.mjs': { file: () => join(packageDir('uplot'), 'dist/uPlot.esm.js'), type: 'text/javascript' },
  'uplot.css': { file: () => join(packageDir('uplot'), 'dist/uPlot.min.css'), type: 'text/css' },
};

export interface DashboardOptions {
  /** Each etcd member's status (the host's member probe), for /dashboard/etcd-members. Default none. */
  etcdMembers?: () => Promise<EtcdMemberStatus[]>;
}

/** The dashboard's handlers, mounted by the route table (functions/routes.ts) under /dashboard. */
export interface DashboardHandlers {
  page: Handler;
  asset: Handler;
  etcdMembers: Handler;
}

export function dashboardHandlers({
  etcdMembers = async () => [],
}: DashboardOptions = {}): DashboardHandlers {
  const cache = new Map<string, string>();
  const load = (name: string, file: () => string) => {
    let body = cache.get(name);
    if (body === undefined) {
      body = readFileSync(file(), 'utf8');
      cache.set(name, body);
    }
    return body;
  };
  return {
    page: (c) => c.html(load('index.html', () => join(here, 'index.html'))),
    asset: (c) => {
      const name = c.req.param('file') ?? '';
      // Own names only: `constructor` or `toString` are no assets.
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!asset) return c.json({ error: { code: 'not_found', message: 'no such dashboard asset' } }, 404);
      return c.body(load(name, asset.file), 200, {
        'content-type': `${asset.type}; charset=utf-8`,
        'cache-control': 'no-cache',
      });
    },
    // The members alone, for a page on a host built without GET /cluster (e.g. in-process apps).
    etcdMembers: async (c) => c.json({ members: await etcdMembers() }),
  };
}

/** The same handlers as a sub-app, for servers without the route table (test/support/fake-host.ts). */
export function dashboardRoutes(options: DashboardOptions = {}): Hono {
  const { page, asset, etcdMembers } = dashboardHandlers(options);
  return new Hono().get('/', page).get('/assets/:file', asset).get('/etcd-members', etcdMembers);
}
