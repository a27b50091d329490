// SPDX-License-Identifier: Apache-2.0
// The dashboard's page in a real browser: Debian's chromium, headless, driven by
// playwright-core (scripts/get-playwright.sh). Prints one JSON object of what the
// rendered DOM shows; test/e2e/dashboard.py asserts on it against the JSON API.
//   node page_check.js URL NAMESPACE SCREENSHOT
// Exit 0 with the JSON on stdout, or 1 with the error on stderr.
const { chromium } = require("playwright-core");

async function facts(page) {
  return page.evaluate(() => ({
    score: document.querySelector("#cluster-score")?.textContent.trim(),
    namespaces: [...document.querySelectorAll("tr.ns")].map((r) => ({
      name: r.dataset.namespace,
      score: r.querySelector(".ns-score")?.textContent.trim(),
      ifEnforced: r.querySelector(".ns-if-enforced")?.textContent.trim(),
    })),
    workloads: [...document.querySelectorAll("section.workload")].map((s) => ({
      namespace: s.dataset.namespace, name: s.dataset.name, status: s.dataset.status,
      violations: [...s.querySelectorAll("tr.violation")].map((v) => ({
        policy: v.dataset.policy, field: v.querySelector(".field")?.textContent,
        fix: v.querySelector(".fix")?.textContent,
        runbook: v.querySelector("a.runbook")?.getAttribute("href"),
        runbookText: v.querySelector("a.runbook")?.textContent,
      })),
      exemptReason: s.querySelector(".exempt-reason")?.textContent || null,
    })),
    scripts: document.querySelectorAll("script").length,
    external: [...document.querySelectorAll("link,img,iframe,script[src]")].length,
  }));
}

(async () => {
  const [url, ns, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    // JavaScript off: the page must be whole without it, filter included.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: "load", timeout: 20000 });
    await page.screenshot({ path: shot, fullPage: true });
    // page.evaluate runs in its own world even with the page's scripts off.
    const before = await facts(page);
    await page.selectOption("#filter-namespace", ns);
    await Promise.all([page.waitForNavigation({ timeout: 20000 }), page.click("#filter button")]);
    const after = await facts(page);
    const filteredUrl = page.url();
    console.log(JSON.stringify({ before, after, filteredUrl, requests }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
