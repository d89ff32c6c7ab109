// The Playwright half of the UI checks: answers the requests extension-host tests write into the
// bridge directory (see suite/uiBridge.ts) by looking at the real workbench on the same page.
// Steps read what a user sees (rows, welcome text) and save screenshots; the tests assert.
/* global getComputedStyle -- the page's, inside evaluate() */
import * as fs from 'node:fs';
import * as path from 'node:path';

const VIEW_CONTAINER = 'MCP Auth';
const VIEW_CONTAINER_ID = 'mcpAuth';
/** Under the tests' own timeout, so a missing element fails the step with Playwright's reason. */
const STEP_TIMEOUT_MS = 10_000;
const SCREENSHOT_SIDEBAR_WIDTH = 560;

/**
 * Polls `bridge` for `<id>.request.json` and answers each with `<id>.response.json`, one at a time.
 * @param {import('playwright-core').Page} page
 * @param {string} bridge
 * @param {{screenshotDir: string, suite: string}} options
 * @returns {() => void} stops serving
 */
export function serveUiRequests(page, bridge, options) {
  let stopped = false;
  const seen = new Set();
  const loop = async () => {
    while (!stopped) {
      const requests = fs.readdirSync(bridge).filter((f) => f.endsWith('.request.json') && !seen.has(f)).sort();
      for (const file of requests) {
        seen.add(file);
        const id = file.slice(0, -'.request.json'.length);
        const { step, args } = JSON.parse(fs.readFileSync(path.join(bridge, file), 'utf8'));
        let response;
        try {
          const fn = STEPS[step];
          if (!fn) throw new Error(`unknown UI step ${step}`);
          response = { ok: true, result: await fn(page, args ?? {}, options) };
        } catch (err) {
          response = { ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
        }
        if (stopped) return;
        const tmp = path.join(bridge, `${id}.tmp-response`);
        fs.writeFileSync(tmp, JSON.stringify(response));
        fs.renameSync(tmp, path.join(bridge, `${id}.response.json`));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  loop().catch((err) => console.log(`[ui driver] stopped: ${err.message}`));
  return () => (stopped = true);
}

export const STEPS = {
  /** Opens the MCP Auth container from the activity bar (as a user clicks it) and reads the view. */
  async showView(page) {
    await openContainer(page);
    return readView(page);
  },
  /** Reads the view as it is now (the test polls this while the tree catches up). */
  async readView(page) {
    return readView(page);
  },
  /** Saves the whole window and the sidebar alone as PNGs under .test-output/screenshots/. */
  async screenshot(page, { name }, { screenshotDir, suite }) {
    if (!/^[\w-]+$/.test(name ?? '')) throw new Error(`bad screenshot name ${name}`);
    fs.mkdirSync(screenshotDir, { recursive: true });
    await widenSidebar(page, SCREENSHOT_SIDEBAR_WIDTH);
    // Off the view, so no row shows its hover state.
    await page.mouse.move(1000, 400);
    await page.waitForTimeout(500); // the sash's hover highlight fades
    const window = path.join(screenshotDir, `${suite}-${name}.png`);
    const sidebar = path.join(screenshotDir, `${suite}-${name}-sidebar.png`);
    await page.screenshot({ path: window });
    await page.locator('.part.sidebar').screenshot({ path: sidebar, timeout: STEP_TIMEOUT_MS });
    return { files: [window, sidebar] };
  },
  /** Hovers a row and clicks one of its inline actions (e.g. "Open Config"), as a user would. */
  async clickRowAction(page, { label, action }) {
    const row = viewBody(page).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: exactText(label) }) }).first();
    await row.hover({ timeout: STEP_TIMEOUT_MS });
    await row.locator(`.actions .action-label[aria-label^="${action}"]`).click({ timeout: STEP_TIMEOUT_MS });
    return { clicked: `${label} → ${action}` };
  },
  /** The page's HTML, for writing new steps (DEBUG only). */
  async dumpHtml(page, { name }, { screenshotDir, suite }) {
    fs.mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${suite}-${name}.html`);
    fs.writeFileSync(file, await page.content());
    return { file };
  },
};

/** Drags the sidebar's edge so descriptions (host · scope · token state) are not cut off. */
async function widenSidebar(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 5 });
  await page.mouse.up();
}

/** The workbench shows a container's views once its activity-bar entry is selected. */
async function openContainer(page) {
  const entry = page.locator('.part.activitybar .action-item').filter({ has: page.locator(`[aria-label^="${VIEW_CONTAINER}"]`) }).first();
  await entry.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  if ((await entry.getAttribute('aria-selected')) !== 'true' && !(await entry.evaluate((e) => e.classList.contains('checked')))) {
    await entry.click({ timeout: STEP_TIMEOUT_MS });
  }
  await viewBody(page).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

/** The container has one view, so the sidebar showing the container shows that view's body. */
function viewBody(page) {
  return page.locator(`.part.sidebar[data-active-composite="workbench.view.extension.${VIEW_CONTAINER_ID}"] .pane-body`).first();
}

async function readView(page) {
  const body = viewBody(page);
  await body.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  return body.evaluate((el) => {
    const rows = [...el.querySelectorAll('.monaco-list-row')].map((row) => ({
      label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
      level: Number(row.getAttribute('aria-level') ?? 0),
      ariaLabel: row.getAttribute('aria-label') ?? '',
    }));
    const welcome = el.querySelector('.welcome-view');
    const welcomeVisible = welcome && welcome.offsetParent !== null && getComputedStyle(welcome).display !== 'none';
    return { rows, welcome: welcomeVisible ? welcome.innerText.trim() : null };
  });
}

function exactText(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
