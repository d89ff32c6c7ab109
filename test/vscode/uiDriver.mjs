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
  /** Waits for a modal dialog (showWarningMessage with modal: true) and reads it as the user sees it. */
  async readDialog(page) {
    const box = dialogBox(page);
    await box.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    return box.evaluate((el) => ({
      message: el.querySelector('.dialog-message-text')?.textContent?.trim() ?? '',
      detail: el.querySelector('.dialog-message-detail')?.innerText?.trim() ?? '',
      buttons: [...el.querySelectorAll('.dialog-buttons .monaco-button')].map((b) => b.textContent?.trim() ?? ''),
    }));
  },
  /** Clicks one of the open dialog's buttons by its label, as a user would. */
  async clickDialogButton(page, { button }) {
    const box = dialogBox(page);
    await box.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await box.locator('.dialog-buttons .monaco-button', { hasText: exactText(button) }).first().click({ timeout: STEP_TIMEOUT_MS });
    await box.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
    return { clicked: button };
  },
  /** Saves the whole window as it is now (e.g. with a dialog open) under .test-output/screenshots/. */
  async screenshotWindow(page, { name }, { screenshotDir, suite }) {
    if (!/^[\w-]+$/.test(name ?? '')) throw new Error(`bad screenshot name ${name}`);
    fs.mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${suite}-${name}.png`);
    await page.screenshot({ path: file });
    return { files: [file] };
  },
  /**
   * A real modal, which the test window cannot show (VS Code refuses dialogs while extension tests
   * run): opens a second window on the same server and folder without the tests, runs `command`
   * from the Command Palette as a user does, picks `pick` in its QuickPick, reads and screenshots
   * the modal, presses `answer`, and closes the window.
   */
  async realDialog(page, { command, pick, answer, name }, { screenshotDir, suite }) {
    if (!/^[\w-]+$/.test(name ?? '')) throw new Error(`bad screenshot name ${name}`);
    const url = new URL(page.url());
    const payload = JSON.parse(url.searchParams.get('payload') ?? '[]').filter(([k]) => k !== 'extensionTestsPath');
    url.searchParams.set('payload', JSON.stringify(payload));
    const second = await page.context().newPage();
    let phase = 'opening the second window';
    try {
      await second.goto(url.href);
      // The extension is active once its view container is in the activity bar.
      await second.locator(`.part.activitybar [aria-label^="${VIEW_CONTAINER}"]`).first().waitFor({ state: 'visible', timeout: 60_000 });
      phase = `running "${command}" from the Command Palette`;
      const widget = second.locator('.quick-input-widget');
      const input = widget.locator('.quick-input-box input');
      // A fresh window may list the extension's commands a moment after its view container shows.
      for (let attempt = 0; ; attempt++) {
        await second.keyboard.press('Escape');
        await second.keyboard.press('F1');
        try {
          await widget.waitFor({ state: 'visible', timeout: 5_000 });
          await input.fill(`>${command}`);
          await widget.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ state: 'visible', timeout: 3_000 });
          break;
        } catch (err) {
          if (attempt >= 10) throw err;
          await second.waitForTimeout(1_000);
        }
      }
      await second.waitForTimeout(300);
      await input.press('Enter');
      if (pick) {
        phase = `picking "${pick}"`;
        await widget.locator('.quick-input-list .monaco-list-row', { hasText: pick }).first().waitFor({ state: 'visible', timeout: 30_000 });
        await input.fill(pick);
        await second.waitForTimeout(300);
        await input.press('Enter');
      }
      phase = 'waiting for the modal';
      const box = dialogBox(second);
      await box.waitFor({ state: 'visible', timeout: 60_000 });
      await second.mouse.move(5, 5);
      await second.waitForTimeout(300);
      const dialog = await box.evaluate((el) => ({
        message: el.querySelector('.dialog-message-text')?.textContent?.trim() ?? '',
        detail: el.querySelector('.dialog-message-detail')?.innerText?.trim() ?? '',
        buttons: [...el.querySelectorAll('.dialog-buttons .monaco-button')].map((b) => b.textContent?.trim() ?? ''),
      }));
      fs.mkdirSync(screenshotDir, { recursive: true });
      const file = path.join(screenshotDir, `${suite}-${name}.png`);
      await second.screenshot({ path: file });
      phase = `pressing "${answer}"`;
      await box.locator('.dialog-buttons .monaco-button', { hasText: exactText(answer) }).first().click({ timeout: STEP_TIMEOUT_MS });
      await box.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
      return { ...dialog, files: [file] };
    } catch (err) {
      await second.screenshot({ path: path.join(screenshotDir, `${suite}-${name}-failed.png`) }).catch(() => undefined);
      throw new Error(`${phase}: ${err instanceof Error ? err.message.split('\n')[0] : err}`, { cause: err });
    } finally {
      await second.close();
    }
  },
  /**
   * The notifications, as listed in the Notification Center (with --enable-smoke-test-driver the
   * workbench shows no toasts: NotificationsToasts.addToast skips them), with their buttons.
   */
  async readNotifications(page) {
    const center = await openNotificationCenter(page);
    await expandNotifications(page, center);
    return center.locator('.notification-list-item').evaluateAll((items) =>
      items.map((t) => ({
        message: t.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '',
        buttons: [...t.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.textContent?.trim() ?? ''),
      })),
    );
  },
  /** Waits for a notification whose message contains `contains`, then clicks its button `button` (in the Notification Center). */
  async clickNotificationButton(page, { contains, button }) {
    const center = await openNotificationCenter(page);
    const item = center.locator('.notification-list-item', { has: page.locator('.notification-list-item-message', { hasText: contains }) }).first();
    await item.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await expandNotifications(page, center);
    const message = (await item.locator('.notification-list-item-message').textContent())?.trim() ?? '';
    const target = item.locator('.notification-list-item-buttons-container .monaco-button', { hasText: exactText(button) }).first();
    await target.scrollIntoViewIfNeeded({ timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
    await target.click({ timeout: STEP_TIMEOUT_MS });
    return { message };
  },
  /** Waits for the QuickPick, types `filter` into it and accepts the first matching item; returns the items it saw. */
  async pickQuickItem(page, { filter }) {
    const widget = page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const title = (await widget.locator('.quick-input-title').textContent().catch(() => ''))?.trim() ?? '';
    const input = widget.locator('.quick-input-box input');
    await input.fill(filter ?? '');
    // The list filters as the user types; give it a moment to settle on what was typed.
    await page.waitForTimeout(300);
    const rows = widget.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const items = await rows.evaluateAll((els) => els.map((r) => r.getAttribute('aria-label') ?? r.textContent?.trim() ?? ''));
    await input.press('Enter');
    // A command may show its next QuickPick in the same widget at once, so a short wait only.
    await widget.waitFor({ state: 'hidden', timeout: 1_000 }).catch(() => undefined);
    return { title, items };
  },
  /**
   * Plays the user's browser for a login the extension opened with vscode.env.openExternal: waits
   * for the new tab on an authorization URL, and lets it follow the authorization server's
   * redirects (the lab approves without a page) to the extension's loopback callback. VS Code's
   * remote port forwarding rewrites a loopback URL it opens to `<workbench>/proxy/<port>/…`; the
   * lab's own redirects are absolute paths that the proxy does not rewrite, so the tab is sent to
   * the lab itself, as a browser on the remote machine would open it. Returns the URL as opened
   * (its query: nothing secret, the PKCE verifier never leaves the extension) and where it ended.
   */
  async completeLogin(page, { timeoutMs = 30_000 }) {
    const { tab, proxied, direct } = await authorizationTab(page, timeoutMs);
    try {
      const callback = new URL(direct.searchParams.get('redirect_uri') ?? '');
      const landed = tab.waitForURL((u) => u.origin === callback.origin && u.pathname === callback.pathname, { timeout: timeoutMs });
      landed.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      if (proxied) await tab.goto(direct.href).catch(() => undefined);
      await landed;
      const text = (await tab.locator('body').innerText({ timeout: STEP_TIMEOUT_MS }).catch(() => '')).trim().slice(0, 200);
      return { rewrittenByPortForwarding: Boolean(proxied), origin: direct.origin, path: direct.pathname, query: Object.fromEntries(direct.searchParams), landed: `${callback.origin}${callback.pathname}`, page: text };
    } finally {
      await tab.close().catch(() => undefined);
    }
  },
  /**
   * Plays a browser on another machine (failure mode F3): like completeLogin, but the loopback
   * callback is unreachable from it (the request is refused), so the user copies the address the
   * tab ended on and pastes it into the input box the login shows in the workbench. Returns the
   * box's title and prompt, and the origin and path of what was pasted.
   */
  async completeLoginByPaste(page, { timeoutMs = 30_000 }) {
    const context = page.context();
    const deadline = Date.now() + timeoutMs;
    const { tab, direct } = await authorizationTab(page, timeoutMs);
    const callback = new URL(direct.searchParams.get('redirect_uri') ?? '');
    let ended;
    try {
      // Chromium's own request interception (CDP Fetch): unlike page.route it also sees the
      // authorization server's redirect to the callback, which it refuses as an unreachable host would.
      const cdp = await context.newCDPSession(tab);
      cdp.on('Fetch.requestPaused', (e) => {
        ended = e.request.url;
        cdp.send('Fetch.failRequest', { requestId: e.requestId, errorReason: 'ConnectionRefused' }).catch(() => undefined);
      });
      await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${callback.origin}${callback.pathname}*`, requestStage: 'Request' }] });
      await tab.goto(direct.href).catch(() => undefined);
      while (!ended && Date.now() < deadline) await page.waitForTimeout(100);
      if (!ended) throw new Error('the authorization server never sent the browser to the callback');
    } finally {
      await tab.close().catch(() => undefined);
    }
    const widget = page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    const title = (await widget.locator('.quick-input-title').textContent().catch(() => ''))?.trim() ?? '';
    const prompt = (await widget.locator('.quick-input-message').textContent().catch(() => ''))?.trim() ?? '';
    const input = widget.locator('.quick-input-box input');
    await input.fill(ended);
    await input.press('Enter');
    const pasted = new URL(ended);
    return { title, prompt, pasted: `${pasted.origin}${pasted.pathname}`, answered: pasted.searchParams.has('code') };
  },
  /** The view's message line (TreeView.message) when it shows one, else null. */
  async readViewMessage(page) {
    const body = viewBody(page);
    await body.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    return body.evaluate((el) => {
      const m = el.querySelector('.message');
      return m && !m.classList.contains('hide') && m.offsetParent !== null ? m.innerText.trim() || null : null;
    });
  },
  /**
   * The status bar's entries as shown: id (the extension's `<publisher>.<name>.<id>`), the text a
   * user reads, the label a screen reader reads, and the background colour.
   */
  async readStatusBar(page) {
    const bar = page.locator('.part.statusbar');
    await bar.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    return bar.evaluate((el) =>
      [...el.querySelectorAll('.statusbar-item')]
        .filter((item) => item.offsetParent !== null && getComputedStyle(item).display !== 'none')
        .map((item) => {
          const label = item.querySelector('.statusbar-item-label');
          return {
            id: item.id,
            text: label?.textContent?.trim() ?? '',
            ariaLabel: label?.getAttribute('aria-label') ?? item.getAttribute('aria-label') ?? '',
            role: label?.getAttribute('role') ?? '',
            background: getComputedStyle(item).backgroundColor,
            warning: item.classList.contains('warning-kind'),
            error: item.classList.contains('error-kind'),
          };
        }),
    );
  },
  /** The page's HTML, for writing new steps (DEBUG only). */
  async dumpHtml(page, { name }, { screenshotDir, suite }) {
    fs.mkdirSync(screenshotDir, { recursive: true });
    const file = path.join(screenshotDir, `${suite}-${name}.html`);
    fs.writeFileSync(file, await page.content());
    return { file };
  },
};

/** Opens the Notification Center from the status bar's bell (as a user does) unless it is open. */
async function openNotificationCenter(page) {
  const center = page.locator('.notifications-center');
  // The status-bar bell toggles the center, and a click that lands while it re-renders (or while
  // an earlier step's overlay is still up) can leave it closed: close overlays and try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await center.isVisible().catch(() => false)) return center;
    if (attempt > 0) await page.keyboard.press('Escape').catch(() => undefined);
    await page.locator('[id="status.notifications"] .statusbar-item-label').click({ timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
    if (await center.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) return center;
  }
  await center.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  return center;
}

/** Buttons show only on expanded notifications: expand every collapsed one. */
async function expandNotifications(page, center) {
  const toggles = center.locator('.notification-list-item .codicon-notifications-expand');
  for (let i = await toggles.count(); i > 0; i--) {
    await toggles.first().click({ timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
  }
}

/** The open modal dialog (VS Code's own, in the web workbench). */
function dialogBox(page) {
  return page.locator('.monaco-dialog-box').first();
}

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

/**
 * The tab the extension opened on an authorization URL, and that URL as the lab serves it: VS
 * Code's remote port forwarding rewrites a loopback URL it opens to `<workbench>/proxy/<port>/…`.
 */
async function authorizationTab(page, timeoutMs) {
  const context = page.context();
  const deadline = Date.now() + timeoutMs;
  let tab;
  while (!tab && Date.now() < deadline) {
    tab = context.pages().find((p) => p !== page && /\/auth\?/.test(p.url()));
    if (!tab) await page.waitForTimeout(100);
  }
  if (!tab) throw new Error(`no authorization tab opened within ${timeoutMs} ms (pages: ${context.pages().map((p) => p.url().split('?')[0]).join(' ')})`);
  const opened = new URL(tab.url());
  const proxied = /^\/proxy\/(\d+)(\/.*)$/.exec(opened.pathname);
  const direct = proxied ? new URL(`http://127.0.0.1:${proxied[1]}${proxied[2]}${opened.search}`) : opened;
  return { tab, proxied, direct };
}

function exactText(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
