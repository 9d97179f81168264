/**
 * A real browser for the console's tests: Debian's Chromium (`/usr/bin/chromium`, installed by
 * `.ci/run` when missing), driven by playwright-core. Started with the flags that keep it off the
 * network (no background, sync or component-update requests); Playwright gives it a fresh profile.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import type { Browser as PuppeteerBrowser } from 'puppeteer-core';

/**
 * The environment a browser starts with: this process's, without libfaketime (`npm run test:clock`
 * runs the suite under it; a browser under it hangs, and needs no faked clock: the console takes the
 * server's clock from the page).
 */
function browserEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && entry[0] !== 'LD_PRELOAD' && !entry[0].startsWith('FAKETIME'),
    ),
  );
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: browserEnv(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** Where a run's screenshots go (not committed): `test-results/console/` under the repository. */
export const SCREENSHOT_DIR = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../test-results/console',
);

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/**
 * Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi: Playwright drives only its own
 * patched Firefox builds, which would have to be downloaded, so the stock browser needs Puppeteer.
 */
export async function launchFirefox(): Promise<PuppeteerBrowser> {
  if (!existsSync(FIREFOX))
    throw new Error(
      `${FIREFOX} not found: install Debian's firefox-esr (apt-get install firefox-esr) or set FIREFOX_PATH`,
    );
  const puppeteer = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    env: browserEnv(),
    // Nothing of Firefox's own may reach the network (updates, telemetry, captive-portal checks).
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
    },
  });
}
