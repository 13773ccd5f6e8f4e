import { startTestCluster } from './test/support/test-cluster';
const c = await startTestCluster({ hosts: 3 });
try {
  await new Promise((r) => setTimeout(r, 3000));
  for (const h of c.fleet.hosts) {
    const r = await fetch(`${h.url}/cluster`);
    console.log(h.id, r.status, JSON.stringify(await r.json()));
    const rd = await fetch(`${h.url}/ready`);
    console.log('ready', rd.status);
  }
} finally {
  await c.stop();
}
