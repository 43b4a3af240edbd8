/**
 * A real browser for the dashboard's test: Debian's Chromium (`/usr/bin/chromium`, installed by
 * scripts/setup.sh) driven by playwright-core, which never downloads a browser of its own.
 * Screenshots go to one fixed, git-ignored directory, overwritten by each run.
 */
import { access, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the dashboard test's screenshots go (`tests/e2e/artifacts/dashboard/`). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/dashboard/', import.meta.url));

/** The built dashboard the server serves (`npm run build` makes it). */
const WEB_INDEX = fileURLToPath(new URL('../../../apps/web/dist/index.html', import.meta.url));

/** Why the browser test cannot run here, or undefined when it can. */
export async function browserSkipReason(): Promise<string | undefined> {
  const present = await access(CHROMIUM).then(
    () => true,
    () => false,
  );
  return present ? undefined : `${CHROMIUM} is missing (scripts/setup.sh installs Debian's chromium)`;
}

/** Throws when the dashboard is not built: that is a build failure, not a reason to skip. */
export async function assertDashboardBuilt(): Promise<void> {
  await access(WEB_INDEX).catch(() => {
    throw new Error(`${WEB_INDEX} is missing: run \`npm run build\` (it bundles apps/web)`);
  });
}

/**
 * Runs `fn` with a headless Chromium; the browser is always closed afterwards (its processes
 * would otherwise be caught by the suite's leak check). Root needs `--no-sandbox`: Chromium's own
 * sandbox refuses to start as root.
 */
export async function withBrowser<T>(fn: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** Saves a full-page screenshot as `<name>.png` in the artifacts directory. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png`, fullPage: true });
}

/** The part of a browser's WebSocket that `page.evaluate` code uses (the tests compile without the DOM types). */
export interface PageWebSocket {
  readonly protocol: string;
  send(data: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: string }) => void): void;
}
