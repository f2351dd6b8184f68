/**
 * A real browser (Debian's Chromium driven by playwright-core) opens the Temporal Web UI served
 * by the dev server, filters by OrderId and finds every workflow of one delivered box.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createWmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';
import { orderDetailQuery } from '../../workflows/orders/contract';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
// CI installs Chromium (.ci/run) and sets this, so a missing browser fails there instead of skipping.
const required = process.env.CLOSETFLOW_REQUIRE_BROWSER === '1';
const describeBrowser = fs.existsSync(CHROMIUM) || required ? describe : describe.skip;
if (describeBrowser === describe.skip) console.warn(`skipping the Web UI browser test: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

describeBrowser('the Temporal Web UI', () => {
  let system: RunningSystem;
  let wms: WmsRunningServer;
  let api: ApiHarness & { url: string };

  beforeAll(async () => {
    // The real API receives the WMS's signed callbacks, so the box really ships and is delivered.
    api = await startListeningApi();
    wms = await createWmsSimulator({ callbackUrl: `${api.url}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 100 } }).start(0);
    system = await startSystem({ wmsUrl: wms.url });
  });
  afterAll(async () => {
    await system?.stop();
    await wms?.close();
    await api?.close();
  });

  it('shows every workflow of a box, from six task queues, when filtered by OrderId', async () => {
    const { size } = await seedItems(system.database, ['dress', 'top'], 2);
    const { input, handle } = await startOrder(system.client, { size });
    // The order stays open after delivery (the rental window runs): wait for the status instead.
    await eventually(async () => ((await handle.query(orderDetailQuery)).status === 'delivered' ? true : undefined), 60_000, 'delivered');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
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
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const query = encodeURIComponent(`OrderId="${input.orderId}"`);
      await page.goto(`${process.env.TEMPORAL_UI_URL}/namespaces/default/workflows?query=${query}`);
      const expected = ['order:', 'styling:', 'reservation:', 'wms:', 'shipment:', 'return:'].map((prefix) => `${prefix}${input.orderId}`);
      for (const workflowId of expected) await page.getByText(workflowId, { exact: true }).first().waitFor({ timeout: 30_000 });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order-workflows.png'), fullPage: true });
      const text = await page.locator('body').innerText();
      for (const workflowId of expected) expect(text).toContain(workflowId);
      // Nothing from other boxes: the filter really selected this box's workflows only.
      expect(text.match(/(order|styling|reservation|wms|shipment|return):o_[a-z0-9]+/g)?.every((id) => id.endsWith(input.orderId))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
