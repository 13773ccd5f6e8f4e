/**
 * A real browser for the UI tests and the dashboard capture (dev/capture-dashboard.ts): Debian's
 * `chromium` driven by playwright-core, headless, with a fresh profile per launch and every
 * background feature that would reach for the network turned off (the network is closed). A
 * missing chromium is installed with apt-get when we run as root, as the launcher does for etcd;
 * otherwise the caller fails saying what to install. The tests are never skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { ensureDebianPackage } from './ensure-debian-package';

/** Long enough for apt-get to install chromium on a fresh machine; give it to the hook that calls ensureChromium. */
export const INSTALL_CHROMIUM_TIMEOUT_MS = 10 * 60_000;

/** Path of the browser: CHROMIUM_PATH, else `chromium` on PATH, installed first if need be. */
export function ensureChromium(): string {
  return ensureDebianPackage({
    binary: 'chromium',
    packageName: 'chromium',
    overrideVariable: 'CHROMIUM_PATH',
  });
}

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface LaunchBrowserOptions {
  /**
   * Let playwright close the browser and exit the process on SIGINT, SIGTERM and SIGHUP. Default
   * true. A caller that stops more than the browser on a signal (a cluster, its temporary
   * directory) passes false and closes the browser itself: playwright's exit would come first.
   */
  handleSignals?: boolean;
}

export async function launchBrowser({
  handleSignals = true,
}: LaunchBrowserOptions = {}): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'payments-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: ensureChromium(),
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
    handleSIGINT: handleSignals,
    handleSIGTERM: handleSignals,
    handleSIGHUP: handleSignals,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
