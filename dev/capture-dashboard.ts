/**
 * `npm run capture:dashboard`: a screenshot of the operator dashboard (functions/dashboard/) with
 * its charts filled, for the report. The page draws its throughput and latency charts from the
 * /metrics it scrapes every 2 s while it is open, so a page opened on an idle cluster shows empty
 * charts: this script keeps the page open in headless chromium while it offers payments.
 *
 *   1. a scratch cluster (dev/cluster/scratch-cluster.ts): 3 etcd members, 3 function hosts, an
 *      admin API key, on free loopback ports in a temporary directory;
 *   2. the dashboard of the first host, the key in the URL fragment as an operator would give it,
 *      until it shows all members healthy and a host leader, then 4 s idle (the charts' baseline);
 *   3. a bounded open-loop load of new payments on all hosts (loadtest/http-driver.ts): the first
 *      half of `--seconds` at half of `--rate`, the second half at `--rate`, so both levels show;
 *   4. the screenshot, 2 s before the load ends (after it the throughput line would fall to 0),
 *      once both charts' legends show a value at their last point (else the charts are empty),
 *      written to `--out` with a JSON sidecar (command, startedAt, commit, runId, load) once at
 *      least 99 % of the payments were accepted: a capture of a failing cluster is no figure.
 * Everything it started is stopped, by pid, on success, on failure and on Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { authHeaders } from '../loadtest/api-key';
import { runHttpLoad } from '../loadtest/http-driver';
import { paymentBody } from '../loadtest/scenarios';
import {
  CAPTURE_HELP,
  type CaptureOptions,
  parseCaptureOptions,
  UsageError,
} from './capture/capture-options';
import { ensureChromium, type HeadlessBrowser, launchBrowser } from './cluster/headless-chromium';
import { REPO_ROOT } from './cluster/host-fleet';
import { type ScratchCluster, startScratchCluster } from './cluster/scratch-cluster';
import { measurementHeader, writeMeasurementJson } from './measure-output';

/** Share of the payments that must be accepted (201) for the capture to count. */
const MIN_ACCEPTED_SHARE = 0.99;
/** Idle time before the load, ms: two of the page's 2 s polls, so the charts show the rise from 0. */
const IDLE_MS = 4000;
/** How long before the load's end the screenshot is taken, ms. */
const SHOT_BEFORE_END_MS = 2000;

/** A path as the log shows it: relative inside the checkout, absolute outside. */
const shown = (path: string) =>
  relative(REPO_ROOT, path).startsWith('..') ? path : relative(REPO_ROOT, path);
const log = (line: string) => console.log(`[dashboard ${new Date().toISOString().slice(11, 19)}] ${line}`);

let options: CaptureOptions;
try {
  options = parseCaptureOptions(process.argv.slice(2), REPO_ROOT);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`error: ${error.message}\n\n${CAPTURE_HELP}`);
  process.exit(2);
}
if (options.help) {
  console.log(CAPTURE_HELP);
  process.exit(0);
}

const header = measurementHeader('capture:dashboard', options.runId);
let cluster: ScratchCluster | undefined;
let browser: HeadlessBrowser | undefined;
/**
 * Aborted by the first SIGINT, SIGTERM or SIGHUP. The main flow then leaves the step it is in (or,
 * for the cluster's and the browser's start, which cannot be abandoned without losing what they
 * started, waits for it) and stops everything in its `finally`. A second signal exits at once:
 * the process registry (dev/cluster/managed-process.ts) and playwright still kill their children
 * by pid on exit, though a temporary directory may then stay behind.
 */
const interrupted = new AbortController();
let exitSignal: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    if (exitSignal) process.exit(128 + constants.signals[signal]);
    exitSignal = signal;
    log(`${signal}: stopping everything this capture started (again to exit at once) ...`);
    interrupted.abort(new Error(`stopped by ${signal}`));
  });
const aborted = new Promise<never>((_, reject) =>
  interrupted.signal.addEventListener('abort', () => reject(interrupted.signal.reason), { once: true }),
);
aborted.catch(() => undefined); // raised where a step races it
/** `step`, unless a signal comes first. */
const unlessInterrupted = <T>(step: Promise<T>): Promise<T> => Promise.race([step, aborted]);

/** Waits for the page to show a healthy cluster with a host leader, as an operator would see it. */
async function waitForHealthyPage(page: Page): Promise<void> {
  const timeout = 60_000;
  await page
    .getByTestId('summary')
    .filter({ hasText: /^All 3 etcd members healthy$/ })
    .waitFor({ timeout });
  await page
    .getByTestId('host-leader')
    .filter({ hasText: /^h\d+$/ })
    .waitFor({ timeout });
}

/**
 * The value a chart's legend shows for one series with the cursor on the chart's last point: uPlot
 * draws on a canvas, so its legend is the one place the page states what it plotted. The mouse is
 * moved away again, so that the screenshot shows the page as an operator who is not pointing sees it.
 */
async function valueAtLastPoint(page: Page, chart: number, series: number): Promise<number> {
  const figure = page.locator('section.charts figure').nth(chart);
  const over = figure.locator('.u-over');
  const box = await over.boundingBox();
  if (!box) return Number.NaN;
  await over.hover({ position: { x: box.width - 1, y: box.height / 2 } });
  const text = await figure.locator('.u-legend .u-series').nth(series).locator('.u-value').textContent();
  await page.mouse.move(0, 0);
  return Number(text?.replace(/,/g, ''));
}

const half = Math.floor(options.seconds / 2);
const stages = [
  { seconds: half, ratePerSecond: Math.max(1, Math.round(options.rate / 2)) },
  { seconds: options.seconds - half, ratePerSecond: options.rate },
];
// Open loop: connections must cover rate × latency, with room for latency under a busy machine.
const connections = Math.min(256, Math.max(12, Math.ceil(options.rate / 5)));

let exitCode = 0;
try {
  ensureChromium();
  log('starting a scratch cluster: 3 etcd members, 3 function hosts ...');
  cluster = await startScratchCluster({
    members: 3,
    hosts: 3,
    dirPrefix: 'payments-dashboard-',
    // Generous: on a busy 2-core machine tsx may take a minute to compile a host.
    startTimeoutMs: { etcd: 120_000, hosts: 180_000 },
  });
  interrupted.signal.throwIfAborted();
  const targets = cluster.fleet.urls();
  log(`hosts ${targets.join(' ')}; etcd ${cluster.etcd.clientUrls().join(' ')}`);
  // Our own SIGINT handler stops the browser, then the cluster and its directory.
  browser = await launchBrowser({ handleSignals: false });
  interrupted.signal.throwIfAborted();
  const page = await browser.context.newPage();
  const dashboard = `${targets[0]}/dashboard`;
  log(`opening ${dashboard} in headless chromium (admin key in the URL fragment) ...`);
  await unlessInterrupted(page.goto(`${dashboard}#key=${cluster.adminKey}`));
  await unlessInterrupted(waitForHealthyPage(page));
  log(`the dashboard shows all 3 etcd members healthy and a host leader; ${IDLE_MS / 1000} s idle ...`);
  await unlessInterrupted(sleep(IDLE_MS));

  let accepted = 0;
  let failed = 0;
  const failures = new Map<string, number>();
  let paymentNumber = 0;
  const prefix = `dash${header.startedAt.replace(/\D/g, '').slice(8, 14)}`;
  let png: Buffer | undefined;
  for (const [i, stage] of stages.entries()) {
    interrupted.signal.throwIfAborted();
    log(`load ${i + 1}/${stages.length}: ${stage.ratePerSecond} payments/s for ${stage.seconds} s ...`);
    const t0 = performance.now();
    const last = i === stages.length - 1;
    const shot = last
      ? sleep(stage.seconds * 1000 - SHOT_BEFORE_END_MS).then(async () => {
          const rate = await valueAtLastPoint(page, 0, 1);
          const p50 = await valueAtLastPoint(page, 1, 1);
          log(`the charts' last points: ${rate} requests/s, p50 ${p50} ms`);
          if (!(rate > 0 && p50 > 0)) throw new Error("the dashboard's charts are empty under load");
          png = await page.screenshot({ fullPage: true });
          log('screenshot taken');
        })
      : undefined;
    const load = runHttpLoad({
      targets,
      ratePerSecond: stage.ratePerSecond,
      connections,
      durationSeconds: stage.seconds,
      headers: authHeaders(cluster.adminKey),
      next: () => {
        const n = paymentNumber++;
        return {
          method: 'POST',
          path: '/payments',
          body: paymentBody(`${prefix}-${n}`, n, 1000),
          expect: [201],
        };
      },
      onAnswer: (_request, status, body) => {
        if (status === 201) accepted += 1;
        else {
          failed += 1;
          const what = `${status} ${/"code":"(\w+)"/.exec(body)?.[1] ?? ''}`.trim();
          failures.set(what, (failures.get(what) ?? 0) + 1);
        }
      },
      onRequestError: (error) => {
        failed += 1;
        failures.set(error.message, (failures.get(error.message) ?? 0) + 1);
      },
      onProgress: (answered) =>
        log(`  ${Math.round((performance.now() - t0) / 1000)}/${stage.seconds} s, ${answered} answered`),
    });
    // Both settle before any failure is raised: no screenshot is left running against a stopped page.
    const [loaded, shotTaken] = await unlessInterrupted(Promise.allSettled([load, shot]));
    if (loaded.status === 'rejected') throw loaded.reason;
    if (shotTaken.status === 'rejected') throw shotTaken.reason;
  }
  const offered = accepted + failed;
  log(
    `payments: ${accepted} accepted of ${offered}${failures.size ? `; not accepted: ${JSON.stringify(Object.fromEntries(failures))}` : ''}`,
  );
  if (!png) throw new Error('no screenshot was taken');
  if (offered === 0 || accepted / offered < MIN_ACCEPTED_SHARE)
    throw new Error(
      `only ${accepted} of ${offered} payments were accepted (under ${MIN_ACCEPTED_SHARE * 100} %): the screenshot would show a failing cluster, so none is written`,
    );
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, png);
  writeMeasurementJson(options.sidecar, {
    ...header,
    page: '/dashboard',
    load: { stages, connections, accepted, offered },
  });
  log(`wrote ${shown(options.out)} and ${shown(options.sidecar)}`);
} catch (error) {
  if (interrupted.signal.aborted) log(`interrupted: no screenshot written`);
  else console.error(error);
  exitCode = 1;
} finally {
  log('stopping the browser, the hosts and the etcd members ...');
  await browser?.close();
  await cluster?.stop().catch((error) => {
    log(`stopping the cluster failed: ${error}`);
    exitCode = 1;
  });
}
process.exit(exitSignal ? 128 + constants.signals[exitSignal] : exitCode);
