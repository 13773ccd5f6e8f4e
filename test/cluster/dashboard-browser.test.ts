/**
 * The dashboard in a real browser against a real cluster: it shows the three etcd members and
 * the leader, follows a member being killed and restarted, finds a payment by id (and payer), and leaves
 * screenshots in results/ for the person reading the CI run.
 */
import { mkdirSync } from 'node:fs';
import { AlarmAction, AlarmType } from 'etcd3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureChromium,
  type HeadlessBrowser,
  INSTALL_CHROMIUM_TIMEOUT_MS,
  launchBrowser,
} from '../../dev/cluster/headless-chromium';
import { postPayment, request } from '../../dev/cluster/http';
import { type FakeHost, startFakeHost } from '../support/fake-host';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const RESULTS = 'results';
let cluster: TestCluster;
let browser: HeadlessBrowser | undefined;
let page: Page;
let hostUrl: string;

// Before any cluster starts: installs chromium when it is missing (as root), or fails saying how.
beforeAll(() => {
  ensureChromium();
}, INSTALL_CHROMIUM_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
});

describe('dashboard in chromium', () => {
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    cluster = await startTestCluster({ members: 3, hosts: 2 });
    hostUrl = cluster.fleet.urls()[0]!;
    browser ??= await launchBrowser();
    page = await browser.context.newPage();
    // The key travels in the fragment, which the browser never sends to the host.
    await page.goto(`${hostUrl}/dashboard#key=${cluster.adminKey}`);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const memberState = (name: string) => page.locator(`tr[data-member="${name}"] .badge`);

  it('asks for an admin key when it has none, and shows the cluster once given one', async () => {
    const keyless = await browser!.context.newPage();
    try {
      await keyless.goto(`${hostUrl}/dashboard`);
      await expect.poll(() => keyless.getByTestId('key-form').count(), { timeout: 15_000 }).toBe(1);
      await keyless.fill('#api-key', cluster.adminKey);
      await keyless.click('[data-testid="key-form"] button[type=submit]');
      await expect
        .poll(() => keyless.locator('tr[data-member="n1"] .badge').textContent(), { timeout: 15_000 })
        .toBe('healthy');
      expect(await keyless.getByTestId('key-form').count()).toBe(0);
    } finally {
      await keyless.close();
    }
  });

  it('shows the three etcd members, all healthy, and which one is the raft leader', async () => {
    for (const name of ['n1', 'n2', 'n3'])
      await expect.poll(() => memberState(name).textContent()).toBe('healthy');
    await expect
      .poll(() => page.locator('tr[data-member] strong', { hasText: 'raft leader' }).count())
      .toBe(1);
    await expect.poll(() => page.getByTestId('summary').textContent()).toBe('All 3 etcd members healthy');
    await page.screenshot({ path: `${RESULTS}/dashboard.png`, fullPage: true });
  });

  it('shows the host leader from GET /cluster', async () => {
    let leader: string | undefined;
    await expect
      .poll(
        async () => {
          const answer = await request<{ leader?: { id: string } | null }>(`${hostUrl}/cluster`);
          leader = answer.status === 200 ? answer.body.leader?.id : undefined;
          return leader;
        },
        { timeout: 15_000 },
      )
      .toBeTruthy();
    await expect.poll(() => page.getByTestId('host-leader').textContent(), { timeout: 15_000 }).toBe(leader);
  });

  it('finds a payment by id', async () => {
    const id = `dash-${Date.now()}`;
    const made = await postPayment(hostUrl, {
      id,
      payer: 'ops-a',
      payee: 'ops-b',
      amount: 4200,
      currency: 'EUR',
    });
    expect(made.status).toBe(201);
    await page.fill('#payment-id', id);
    await page.click('button[type=submit]');
    await expect.poll(() => page.getByTestId('payment-result').textContent()).toContain('"amount": 4200');
  });

  it('names the payers of an id several payers used, and finds each by id and payer', async () => {
    const id = `dash-shared-${Date.now()}`;
    for (const [payer, amount] of [
      ['ops-a', 100],
      ['ops-c', 300],
    ] as const) {
      const made = await postPayment(hostUrl, { id, payer, payee: 'ops-b', amount, currency: 'EUR' });
      expect(made.status).toBe(201);
    }
    await page.fill('#payment-id', id);
    await page.fill('#payment-payer', '');
    await page.click('button[type=submit]');
    await expect.poll(() => page.getByTestId('payment-result').textContent()).toMatch(/ops-a, ops-c$/);
    await page.fill('#payment-payer', 'ops-c');
    await page.click('button[type=submit]');
    await expect.poll(() => page.getByTestId('payment-result').textContent()).toContain('"amount": 300');
  });

  it('says why payments are refused while etcd holds an alarm that size does not explain, and clears with it', async () => {
    const root = cluster.client();
    const memberID = (await root.maintenance.status()).header.member_id;
    const alarm = (action: AlarmAction) =>
      root.maintenance.alarm({ action, memberID, alarm: AlarmType.Nospace });
    await alarm(AlarmAction.Activate);
    try {
      await expect
        .poll(() => page.getByTestId('summary').textContent(), { timeout: 15_000 })
        .toMatch(/ALARM that database size does not explain: NOSPACE on n[123].*503 storage_full/);
      await expect
        .poll(() => page.getByTestId('storage').textContent())
        .toMatch(/quota 8192\.0 MiB.*alarms: NOSPACE on n[123].*an incident/); // the scratch cluster's 8 GiB
    } finally {
      await alarm(AlarmAction.Deactivate);
    }
    await expect
      .poll(() => page.getByTestId('summary').textContent(), { timeout: 15_000 })
      .toBe('All 3 etcd members healthy');
  });

  it('shows a killed member as down within seconds, and healthy again after its restart', async () => {
    await cluster.etcd.member('n2').process.kill();
    await expect.poll(() => memberState('n2').textContent(), { timeout: 15_000 }).toBe('DOWN');
    await expect
      .poll(() => page.getByTestId('summary').textContent())
      .toMatch(/^Degraded: 2 of 3 etcd members healthy/);
    await page.screenshot({ path: `${RESULTS}/dashboard-member-down.png`, fullPage: true });
    await cluster.etcd.restartMember('n2');
    await expect.poll(() => memberState('n2').textContent(), { timeout: 15_000 }).toBe('healthy');
  });
});

describe('dashboard in chromium, with GET /cluster and GET /events', () => {
  let fake: FakeHost;
  let fakePage: Page;
  beforeAll(async () => {
    fake = await startFakeHost();
    browser ??= await launchBrowser();
    fakePage = await browser.context.newPage();
    await fakePage.goto(`${fake.url}/dashboard`);
  });
  afterAll(() => fake?.close());

  it('shows the host leader, each host with its state and clock offset, and the recent events', async () => {
    const text = (selector: string) => () => fakePage.locator(selector).first().textContent();
    await expect.poll(() => fakePage.getByTestId('host-leader').textContent()).toBe('h1');
    await expect.poll(text('tr[data-host="h1"]')).toMatch(/h1alive.*leader.*0\.4 ms/);
    await expect.poll(text('tr[data-host="h2"] .badge')).toBe('GONE');
    await expect.poll(text('[data-testid="summary"]')).toMatch(/NO QUORUM: 1 of 2/);
    await expect.poll(text('[data-testid="events"]')).toMatch(/host-joined/);
    await fakePage.screenshot({ path: `${RESULTS}/dashboard-with-cluster-endpoint.png`, fullPage: true });
  });
});
