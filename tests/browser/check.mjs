// Renders wschaos report pages in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) and fails when a page logs a console error, throws, or has a chart with
// nothing drawn in it. For each page it writes a screenshot and the DOM as rendered next to it
// (NAME.png, NAME.dom.html).
//
// Usage: node check.mjs PAGE.html...
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";

const pages = process.argv.slice(2);
if (pages.length === 0) {
  console.error("usage: node check.mjs PAGE.html...");
  process.exit(2);
}

// The flags this machine's Chromium needs headless as root with no network beyond loopback.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failures = 0;
for (const file of pages) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) problems.push(`loads from elsewhere: ${request.url()}`);
  });
  const started = Date.now();
  await page.goto("file://" + resolve(file), { waitUntil: "load" });
  const rendered = Date.now() - started;
  // A chart is empty when none of its drawn marks has an extent.
  const charts = await page.$$eval("svg.chart", (svgs) =>
    svgs.map((svg) => {
      const marks = svg.querySelectorAll(".series, .state, .bar, .span, .fault rect, .seed-cdf");
      let drawn = 0;
      for (const mark of marks) {
        const box = mark.getBBox();
        if (box.width > 0 || box.height > 0) drawn++;
      }
      return { id: svg.id, marks: marks.length, drawn };
    }),
  );
  for (const chart of charts) {
    if (chart.drawn === 0) problems.push(`chart ${chart.id} is empty (${chart.marks} marks, none drawn)`);
  }
  if (charts.length === 0) problems.push("no chart at all");
  const stem = file.replace(/\.html$/, "");
  await page.screenshot({ path: `${stem}.png`, fullPage: true });
  writeFileSync(`${stem}.dom.html`, await page.content());
  const verdict = problems.length === 0 ? "ok" : "FAILED";
  console.log(`${verdict} ${file}: ${charts.length} charts, rendered in ${rendered} ms`);
  for (const problem of problems) console.log(`  ${problem}`);
  failures += problems.length === 0 ? 0 : 1;
  await page.close();
}
await browser.close();
console.log(`${pages.length - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
