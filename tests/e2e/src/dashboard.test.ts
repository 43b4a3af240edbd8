/**
 * The web dashboard end to end, in a real browser (Debian's Chromium through playwright-core)
 * against a real embedded platform (runc, busybox): sign in (a wrong key first), start a run from
 * the form and watch its logs arrive while it runs, its phase timeline drawn; kill a sandbox from
 * its list; nodes, templates (a build's progress), API keys (create, secret shown once, revoke),
 * the audit log and usage. Chromium's own WebSocket runs an exec with the key as subprotocol.
 * Screenshots: tests/e2e/artifacts/dashboard/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { NotFoundError, Tartarus, UnauthenticatedError, type UsageReport } from '@tartarus/sdk';
import { ARTIFACTS_DIR, assertDashboardBuilt, browserSkipReason, screenshot, withBrowser, type PageWebSocket } from './browser.js';
import { containerSkipReason, withEmbedded } from './helpers.js';

const DAY_MS = 86_400_000;

/** The run started from the form: a few lines, far enough apart to be seen arriving. */
const RUN_COMMAND = 'for i in 1 2 3; do echo line-$i; sleep 0.6; done; echo oops >&2';

/** The text of the element with `data-testid` `id`. */
function text(page: Page, id: string): Promise<string> {
  return page.getByTestId(id).first().innerText();
}

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByTestId('api-key').fill('tt_not-a-key');
  await page.getByTestId('sign-in').click();
  assert.match(await text(page, 'error'), /API key not valid/);
  await screenshot(page, '01-sign-in-refused');
  await page.getByTestId('api-key').fill(key);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('runs-page').waitFor();
}

/** Starts a run from the form; watches its logs arrive live, then its timeline; returns its id. */
async function runFromForm(page: Page): Promise<string> {
  await page.getByTestId('run-command').fill(RUN_COMMAND);
  await page.getByTestId('run-submit').click();
  await page.waitForURL(/\/runs\/run_[a-z0-9]+$/);
  const id = new URL(page.url()).pathname.split('/').pop() ?? '';
  const logs = page.getByTestId('run-logs');
  await logs.getByText('line-1').waitFor();
  // Live: the first line is on the page while the run is still writing the rest.
  assert.doesNotMatch((await logs.textContent()) ?? '', /line-3/);
  await page.getByText('Ended: succeeded.').waitFor({ timeout: 30_000 });
  assert.equal(await logs.textContent(), 'line-1\nline-2\nline-3\noops\n');
  // The page polls the run until its cleanup is recorded: then every phase is drawn.
  await page.getByTestId('phase-cleanedUpAt').getByText(/^\+\d+ ms$/).waitFor({ timeout: 20_000 });
  const timeline = page.getByTestId('phase-timeline');
  // A bar per step but the first (queued, at 0); a step of 0 ms draws none.
  assert.ok((await timeline.locator('.recharts-bar-rectangle').count()) >= 3, 'bars drawn');
  const axis = (await timeline.locator('.recharts-yAxis-tick-labels').textContent()) ?? '';
  for (const phase of ['queued', 'placed', 'template ready', 'started', 'first output', 'exited', 'cleaned up'])
    assert.ok(axis.includes(phase), `${phase} on the timeline's axis: ${axis}`);
  await screenshot(page, '02-run');
  return id;
}

/** What an exec over Chromium's own WebSocket saw. */
interface BrowserExec {
  protocol: string;
  frames: string[];
  refused: boolean;
}

/** An exec over Chromium's own WebSocket, the key offered as subprotocol; resolves with what it saw. */
function browserExec(page: Page, url: string, key: string): Promise<BrowserExec> {
  return page.evaluate(
    ({ url, key }) =>
      new Promise<BrowserExec>((resolve) => {
        const Ws = (globalThis as unknown as { WebSocket: new (u: string, p: string[]) => PageWebSocket }).WebSocket;
        const ws = new Ws(url, ['tartarus', `tartarus.bearer.${key}`]);
        const frames: string[] = [];
        let opened = false;
        ws.addEventListener('open', () => {
          opened = true;
          ws.send(JSON.stringify({ argv: ['echo', 'from-chromium'] }));
        });
        ws.addEventListener('message', (e) => frames.push(e.data));
        ws.addEventListener('close', () => resolve({ protocol: ws.protocol, frames, refused: !opened }));
      }),
    { url, key },
  );
}

async function killFromList(page: Page, client: Tartarus, url: string, key: string): Promise<void> {
  const sbx = await client.sandboxes.create({ template: 'busybox', timeoutMs: 120_000 });
  const wsUrl = `${url.replace(/^http/, 'ws')}/v1/sandboxes/${sbx.id}/exec/ws`;
  const exec = await browserExec(page, wsUrl, key);
  assert.equal(exec.protocol, 'tartarus');
  assert.ok(exec.frames.some((f) => f.includes('from-chromium')), exec.frames.join('\n'));
  assert.match(exec.frames.at(-1) ?? '', /"type":"exit"/);
  assert.equal((await browserExec(page, wsUrl, 'tt_wrong')).refused, true);

  await page.getByTestId('nav-sandboxes').click();
  const row = page.getByTestId(`sandbox-${sbx.id}`);
  await row.getByTestId('state').getByText('running').waitFor();
  page.once('dialog', (d) => void d.accept());
  await row.getByTestId('kill').click();
  await row.getByTestId('state').getByText('killed').waitFor({ timeout: 15_000 });
  assert.equal((await client.sandboxes.get(sbx.id)).state, 'killed');
  await screenshot(page, '03-sandboxes');
}

async function nodesAndTemplates(page: Page): Promise<void> {
  await page.getByTestId('nav-nodes').click();
  const node = page.getByTestId('nodes-table').locator('tbody tr');
  assert.equal(await node.count(), 1);
  assert.match(await node.getByTestId('heartbeat-age').innerText(), /\d.* ago$/);
  assert.match(await node.getByTestId('capacity-cpu').innerText(), /^\d+(\.\d+)? \/ \d+/);
  await screenshot(page, '04-nodes');

  await page.getByTestId('nav-templates').click();
  const busybox = page.getByTestId('template-busybox');
  await busybox.getByTestId('state').getByText('built').waitFor();
  await busybox.getByTestId('build').click();
  await busybox.getByTestId('build-progress').getByText('built', { exact: true }).waitFor({ timeout: 30_000 });
  await screenshot(page, '05-templates');
}

async function apiKeys(page: Page, url: string): Promise<void> {
  await page.getByTestId('nav-api-keys').click();
  await page.getByTestId('key-name').fill('dashboard-e2e');
  await page.getByTestId('key-role').selectOption('viewer');
  await page.getByTestId('key-create').click();
  const secret = await text(page, 'new-key-secret');
  assert.match(secret, /^tt_[A-Za-z0-9_-]{43}$/);
  const viewer = new Tartarus({ url, apiKey: secret });
  assert.ok(Array.isArray((await viewer.runs.list()).items));
  const row = page.getByTestId('keys-table').locator('tr', { hasText: 'dashboard-e2e' });
  await screenshot(page, '06-api-keys');
  page.once('dialog', (d) => void d.accept());
  await row.getByTestId('revoke').click();
  await row.getByTestId('state').getByText('revoked').waitFor();
  await assert.rejects(viewer.runs.list(), UnauthenticatedError);
}

async function auditAndUsage(page: Page, client: Tartarus, runId: string): Promise<void> {
  await page.getByTestId('nav-audit').click();
  const audit = await page.getByTestId('audit-table').innerText();
  for (const action of ['run.submit', 'sandbox.kill', 'key.create', 'key.revoke', 'template.build'])
    assert.ok(audit.includes(action), `${action} in the audit log`);
  assert.ok(audit.includes(runId));
  await screenshot(page, '07-audit');

  await page.getByTestId('nav-usage').click();
  // The page shows the report, or the API's error as its message (e.g. a server without /v1/usage).
  let report: UsageReport | undefined;
  // The page's default window: the 30 UTC days up to the end of today.
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  const window = { from: new Date(today - 29 * DAY_MS).toISOString(), to: new Date(today + DAY_MS).toISOString() };
  try {
    report = await client.usage.get({ ...window, group: 'day' });
  } catch (e) {
    assert.ok(e instanceof NotFoundError, String(e));
    assert.equal(await text(page, 'error'), e.message);
  }
  if (report) {
    await page.getByTestId('usage-total').waitFor();
    assert.equal(await page.getByTestId('usage-row').count(), report.rows.length);
    assert.equal(await page.getByTestId('usage-chart').locator('svg.recharts-surface').count() > 0, true);
    const download = page.waitForEvent('download');
    await page.getByTestId('usage-csv').click();
    const csv = await readFile(await (await download).path(), 'utf8');
    assert.equal(csv.split('\n')[0], (await client.usage.csv({ ...window, group: 'day' })).split('\n')[0]);
  }
  await screenshot(page, '08-usage');
}

test('the dashboard in Chromium: sign in, runs with live logs and timeline, sandboxes, nodes, templates, keys, audit, usage', { timeout: 120_000 }, async (t) => {
  const skip = (await browserSkipReason()) ?? (await containerSkipReason());
  if (skip) return t.skip(skip);
  await assertDashboardBuilt();
  await withEmbedded(
    (h) =>
      withBrowser(async (browser) => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
        page.setDefaultTimeout(15_000);
        const pageErrors: string[] = [];
        page.on('pageerror', (e) => pageErrors.push(e.message));
        const client = new Tartarus({ url: h.url, apiKey: h.adminKey });

        await signIn(page, h.url, h.adminKey);
        const runId = await runFromForm(page);
        await killFromList(page, client, h.url, h.adminKey);
        await nodesAndTemplates(page);
        await apiKeys(page, h.url);
        await auditAndUsage(page, client, runId);

        await page.getByTestId('sign-out').click();
        await page.getByTestId('api-key').waitFor();
        assert.deepEqual(pageErrors, []);
        t.diagnostic(`screenshots in ${ARTIFACTS_DIR}`);
      }),
    { microvmAccel: 'tcg' },
  );
});
