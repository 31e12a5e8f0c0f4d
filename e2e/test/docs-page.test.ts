import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { api, gatewayUrl } from './client';

/**
 * The documentation page in a real browser: Debian's Chromium (no browser download), driven by
 * playwright-core. `infra/local/bootstrap.sh` installs it when missing.
 */

const CHROMIUM = process.env.E2E_CHROMIUM_PATH ?? '/usr/bin/chromium';
jest.setTimeout(90_000);

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run infra/local/bootstrap.sh (apt-get install chromium) first`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium refuses to sandbox itself as root, which is how CI runs.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('/docs in a browser', () => {
  it('renders every tag of the API, loading nothing from another host and breaking no CSP rule', async () => {
    const doc = await api('GET', '/api/openapi.json');
    const tags = (doc.body.tags as Array<{ name: string }>).map((t) => t.name);
    expect(tags.length).toBeGreaterThanOrEqual(7);

    const origin = new URL(gatewayUrl()).origin;
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });

    try {
      const res = await page.goto(`${origin}/docs`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      for (const tag of tags) {
        // Swagger UI draws each tag as a section header `#operations-tag-<name>` with the name in it.
        const header = page.locator(`#operations-tag-${tag}`);
        await header.waitFor({ state: 'visible', timeout: 20_000 });
        expect((await header.innerText()).trim().split('\n')[0]).toBe(tag);
      }
      // Operations are listed under their tags: at least one per documented path.
      const operations = await page.locator('.opblock').count();
      expect(operations).toBeGreaterThanOrEqual(Object.keys(doc.body.paths).length);
      await expect(page.title()).resolves.toBe('MPB Blog Platform API');
      if (process.env.E2E_DOCS_SCREENSHOT) {
        await page.screenshot({ path: process.env.E2E_DOCS_SCREENSHOT, fullPage: false });
      }
    } finally {
      await context.close();
    }

    const foreign = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requested).toContain(`${origin}/api/openapi.json`);
    expect(problems).toEqual([]);
  });
});
