// Measures the console's first load in headless chromium on loopback: bytes transferred (what the network
// carried, headers included) and the time until the page is interactive, for the sign-in page of a cold browser
// and for the overview right after signing in. Not a test (ctest runs *.test.mjs only):
//   REPUTE_BINARY=build/repute node tests/console/measure.mjs [runs]
import { startRepute } from '../interop/lib/repute.mjs';
import { launch } from './lib/browser.mjs';

const runs = Number(process.argv[2] || 5);

// Loads url in a fresh context; resolves once selector is visible. Counts encoded bytes per response via CDP.
async function load(browser, url, selector, prepare) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  if (prepare) await prepare(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
    requests += 1;
  });
  const started = Date.now();
  await page.goto(url);
  await page.locator(selector).waitFor({ timeout: 15_000 });
  const interactive = Date.now() - started;
  const timing = await page.evaluate(() => {
    const [navigation] = performance.getEntriesByType('navigation');
    return { domContentLoaded: navigation.domContentLoadedEventEnd, load: navigation.loadEventEnd };
  });
  await page.waitForLoadState('networkidle');
  await context.close();
  return { bytes, requests, interactive, ...timing };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const server = await startRepute();
const browser = await launch();
try {
  const key = { id: server.apiKeyId, secret: server.apiKeySecret };
  const signIn = async (page) => {
    await page.addInitScript((stored) => sessionStorage.setItem('repute.console.key', JSON.stringify(stored)), key);
  };
  const results = { 'sign-in page': [], 'overview, signed in': [] };
  for (let run = 0; run < runs; run += 1) {
    results['sign-in page'].push(await load(browser, `${server.baseUrl}/console/`, '#key-id'));
    results['overview, signed in'].push(await load(browser, `${server.baseUrl}/console/#/overview`, '#queue-depth', signIn));
  }
  for (const [name, list] of Object.entries(results)) {
    console.log(`${name}: ${list[0].requests} requests, ${list[0].bytes} bytes transferred; ` +
      `interactive in ${median(list.map((one) => one.interactive))} ms (median of ${runs}; ` +
      `DOMContentLoaded ${median(list.map((one) => one.domContentLoaded)).toFixed(0)} ms)`);
  }
} finally {
  await browser.close();
  await server.stop();
}
