// End-to-end test of the evals web app in headless Chromium (the system's /usr/bin/chromium,
// driven by playwright-core). scripts/ui-e2e.sh prepares the repos and servers and runs:
//   node e2e.mjs UI_URL REPO BIG_UI_URL EVALS_BIN SCREENSHOT_DIR TOKEN_UI_URL TOKEN
// It walks what a user does: filter traces, open one, promote it, review and approve the case,
// then look at a run's regression against its baseline; and it checks what the user cannot see
// directly: no console errors, no injected markup, no layout shift, the files on disk.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, repo, bigUrl, evals, shots, tokenUrl, token] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const WIDTHS = [1400, 390];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // CI runs as root, where Chromium's sandbox cannot start.
  args: ['--no-sandbox'],
});
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const consoleErrors = [];
// Layout shifts not caused by the user's own input, summed per page load (the CLS metric).
await context.addInitScript(() => {
  window.__shift = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value;
  }).observe({ type: 'layout-shift', buffered: true });
});
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} (${page.url()})`); });
page.on('pageerror', (e) => consoleErrors.push(`${e.message} (${page.url()})`));

// Chromium logs every 4xx response as a console error; drop the ones a step provoked on purpose.
const provoked = (status) => {
  const kept = consoleErrors.filter((m) => !m.includes(`status of ${status}`));
  consoleErrors.splice(0, consoleErrors.length, ...kept);
};

let stepName = '';
const step = (name) => { stepName = name; console.log(`ui-e2e: ${name}`); };
const hash = () => decodeURIComponent(new URL(page.url()).hash);

// Screenshots of the current view at both widths, and at 390 px nothing may stick out sideways.
async function shoot(name, fullPage = true) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} at ${width} px is ${overflow} px wider than the window`);
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

function caseFiles(dataset) {
  const dir = join(repo, 'datasets', dataset);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f)) : [];
}

function check() {
  try {
    execFileSync(evals, ['check'], { cwd: repo, stdio: 'pipe' });
    return { ok: true, out: '' };
  } catch (e) {
    return { ok: false, out: `${e.stdout}${e.stderr}` };
  }
}

try {
  step('the Traces page shows its first rows');
  await page.goto(`${url}#/traces`);
  await page.locator('.traces .item').first().waitFor();
  const firstRow = await page.evaluate(() => performance.getEntriesByName('evals:first-row')[0]?.startTime);
  assert.ok(firstRow > 0, 'the app marks its first row');
  console.log(`ui-e2e: time to first row of the Traces page: ${Math.round(firstRow)} ms (navigation start to the first row on screen)`);
  await page.locator('.chart svg rect').first().waitFor({ state: 'attached' });
  const rowsAll = await page.locator('.traces .item').count();
  assert.ok(rowsAll >= 10, `all fixture traces listed, got ${rowsAll}`);
  assert.match(await page.locator('.totals').innerText(), new RegExp(`^${rowsAll} traces`));
  // The fixtures' models have no price, so the chart opens on model calls.
  await page.locator('[data-metric=calls][aria-pressed=true]').waitFor();
  const tracesShift = await page.evaluate(() => window.__shift);
  assert.ok(tracesShift < 0.001, `the Traces page does not move as its parts arrive, shift ${tracesShift}`);
  for (const metric of ['errors', 'latency', 'cost', 'calls']) await page.click(`[data-metric=${metric}]`);
  assert.ok(await page.locator('.chart svg rect.bar').count() > 0, 'a bar per bucket');
  await shoot('traces');

  step('a full-text search and a status filter narrow the list, and live in the address');
  await page.fill('input[name=q]', 'email');
  await page.press('input[name=q]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.traces .item').length === 1);
  assert.match(hash(), /q=email/);
  await page.selectOption('select[name=status]', 'error');
  await page.waitForSelector('.traces .empty');
  assert.match(hash(), /status=error/);
  await page.selectOption('select[name=status]', '');
  await page.waitForFunction(() => document.querySelectorAll('.traces .item').length === 1);
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('.traces .item').length === 1);
  assert.equal(await page.inputValue('input[name=q]'), 'email', 'the search is restored from the address');
  await page.fill('input[name=since]', 'last tuesday');
  await page.press('input[name=since]', 'Enter');
  await page.locator('#alert', { hasText: 'since' }).waitFor();
  assert.equal(await page.getAttribute('input[name=since]', 'aria-invalid'), 'true', 'the field at fault is marked');
  provoked(400);
  await page.fill('input[name=since]', '');
  await page.press('input[name=since]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.traces .item').length === 1);
  assert.ok(await page.locator('#alert').isHidden(), 'the error clears with a good filter');
  const row = page.locator('.traces .item').first();
  assert.match(await row.innerText(), /openai\.responses/);

  step('the drawer shows the trace; hostile content stays text; Esc closes it');
  await row.click();
  await page.locator('.drawer .timeline .event.model').first().waitFor();
  await page.locator('.drawer .event.model summary').first().click();
  const input = page.locator('.drawer pre', { hasText: '<img src=x onerror=' });
  await input.waitFor();
  assert.equal(await page.locator('img[src=x]').count(), 0, 'no <img> was injected');
  assert.equal(await page.locator('.drawer script').count(), 0, 'no <script> was injected');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected handler ran');
  assert.equal(await page.locator('svg[onload]').count(), 0, 'no <svg> was injected');
  await page.keyboard.press('Escape');
  await page.waitForSelector('.drawer', { state: 'detached' });
  assert.match(hash(), /^#\/traces\?q=email$/);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.id), 'call_trace_resp_hostile0001', 'focus returns to the row');
  await page.keyboard.press('Enter');
  await page.locator('.drawer #promote').waitFor();
  for (let i = 0; i < 40; i += 1) await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.querySelector('.drawer').contains(document.activeElement)), 'Tab stays in the drawer');
  await page.locator('.drawer .event.model summary').first().click();
  await shoot('trace-drawer', false);

  step('a multi-agent trace: agents, model calls, tool calls and the handoff in its timeline');
  await page.goto(`${url}#/traces?agent=Weather%20expert`);
  await page.locator('.traces .item').first().click();
  await page.locator('.drawer .event.handoff').first().waitFor();
  const timeline = await page.locator('.drawer .timeline').innerText();
  assert.match(timeline, /handoff[\s\S]*Triage → Weather expert/i);
  assert.match(timeline, /agent\s*Weather expert/i);
  assert.ok(await page.locator('.drawer .event.model').count() >= 2, 'every model call is listed');
  await page.goto(`${url}#/traces?q=Paris&agent=Triage`);
  await page.locator('.traces .item').first().click();
  await page.locator('.drawer .event.tool summary').first().click();
  assert.match(await page.locator('.drawer .event.tool').first().innerText(), /"city": "Paris"[\s\S]*Sunny/);
  await page.goto(`${url}#/traces/call_trace_resp_hostile0001?q=email`);
  await page.locator('.drawer #promote').waitFor();

  step('promote the trace with a failure from the taxonomy and expectations');
  const promote = page.locator('#promote');
  await promote.locator('input[name=dataset]').fill('inbox');
  const failures = await promote.locator('select[name=failure] option').allInnerTexts();
  assert.ok(failures.some((f) => /^\s+hallucination$/.test(f)), 'taxonomy children are indented under their parent');
  await promote.locator('select[name=failure]').selectOption('hallucination');
  assert.equal(await promote.locator('select[name=verdict]').inputValue(), 'fail', 'a failure implies the verdict fail');
  await promote.locator('textarea[name=note]').fill('made up a reply <b>not bold</b>');
  await promote.locator('textarea[name=contains]').fill('ada');
  await promote.locator('input[name=tools_forbidden]').fill('send_email');
  await promote.locator('button[type=submit]').click();
  await promote.locator('.promoted').waitFor();
  assert.match(await promote.locator('.promoted').innerText(), /pending/);
  const placeholders = await promote.locator('.findings mark').allInnerTexts();
  assert.ok(placeholders.includes('<EMAIL_1>') && placeholders.includes('<PHONE_1>'), `findings shown by placeholder: ${placeholders}`);
  const [file] = caseFiles('inbox');
  assert.ok(file, 'the case file is written under datasets/inbox');
  let yaml = readFileSync(file, 'utf8');
  assert.match(yaml, /status: pending/);
  assert.match(yaml, /failure: hallucination/);
  assert.match(yaml, /tools_forbidden:\n\s*- send_email/);
  assert.ok(!yaml.includes('ada@example.com'), 'the email is redacted in the file');
  assert.equal(check().ok, false, '`evals check` fails while a case is pending');
  await shoot('promoted');

  step('the pending case is in the Review queue, findings marked in their text');
  await promote.locator('a', { hasText: 'Review it' }).click();
  await page.waitForSelector('#review-detail .findings');
  assert.equal(await page.locator('.queue .item').count(), 1);
  // Promoting a trace twice is refused, naming the case it already is.
  await page.goto(`${url}#/traces/call_trace_resp_hostile0001`);
  await page.locator('#promote input[name=dataset]').fill('spam');
  await page.locator('#promote button[type=submit]').click();
  await page.locator('#promote [role=alert]', { hasText: 'already case' }).waitFor();
  assert.equal(caseFiles('spam').length, 0);
  provoked(409);
  // A second pending case, to walk the queue.
  await page.goto(`${url}#/traces/call_trace_resp_hostile0002`);
  await page.locator('#promote input[name=dataset]').fill('spam');
  await page.locator('#promote button[type=submit]').click();
  await page.locator('#promote .promoted').waitFor();
  const [spamFile] = caseFiles('spam');
  assert.ok(spamFile, 'the second case file is written under datasets/spam');
  await page.goto(`${url}#/review`);
  await page.waitForFunction(() => document.querySelectorAll('.queue .item').length === 2);
  const ids = await page.locator('.queue .item').evaluateAll((els) => els.map((e) => e.dataset.id));
  await page.locator('#page').focus();
  for (const [key, want] of [['j', 0], ['j', 1], ['k', 0]]) {
    await page.keyboard.press(key);
    await page.waitForFunction((id) => decodeURIComponent(location.hash).startsWith(`#/review/${id}`), ids[want]);
  }
  await page.waitForSelector('#review-detail .findings .snippet mark');
  assert.equal(await page.locator('.queue .item[aria-current=true]').getAttribute('data-id'), ids[0]);
  const snippet = await page.locator('#review-detail .findings .snippet').first().innerText();
  assert.match(snippet, /my email is <EMAIL_1>/);
  assert.ok(await page.locator('#review-detail pre mark', { hasText: '<PHONE_1>' }).count() > 0, 'placeholders marked in the input');
  assert.ok(await page.locator('#review-detail pre', { hasText: '<img src=x' }).count() > 0);
  await shoot('review');

  step('relabel and edit the expectations');
  await page.locator('#review-detail textarea[name=note]').fill('invented a reply');
  await page.locator('#review-detail form[aria-label=Label] button').click();
  await page.locator('#review-detail .ok', { hasText: 'Saved label' }).waitFor();
  await page.locator('#review-detail textarea[name=reference]').fill('We will write to you.');
  await page.locator('#review-detail form[aria-label=Expectations] button').click();
  await page.locator('#review-detail .ok', { hasText: 'Saved expectations' }).waitFor();
  yaml = readFileSync(file, 'utf8');
  assert.match(yaml, /note: invented a reply/);
  assert.match(yaml, /reference: We will write to you\./);

  step('a case changed on disk is not overwritten: 409, reload, then approve with the keyboard');
  await page.locator('#review-detail input[name=reviewer]').fill('Ada Reviewer');
  writeFileSync(file, `${yaml}# edited by someone else\n`);
  await page.locator('#page').focus();
  await page.keyboard.press('a');
  await page.locator('#review-detail [role=alert]', { hasText: 'changed on disk' }).waitFor();
  assert.equal(readFileSync(file, 'utf8'), `${yaml}# edited by someone else\n`, 'nothing written on a conflict');
  provoked(409);
  await page.locator('#review-detail [role=alert] button', { hasText: 'Reload' }).click();
  await page.locator('#review-detail [role=alert]').waitFor({ state: 'detached' });
  await page.locator('#page').focus();
  await page.keyboard.press('a');
  await page.waitForFunction(() => document.querySelectorAll('.queue .item').length === 1);
  yaml = readFileSync(file, 'utf8');
  assert.match(yaml, /status: approved/);
  assert.match(yaml, /reviewer: Ada Reviewer/);

  step('the next case opens; r twice rejects it and deletes its file');
  await page.waitForFunction((id) => decodeURIComponent(location.hash).startsWith(`#/review/${id}`), ids[1]);
  await page.locator('#review-detail h2', { hasText: ids[1] }).waitFor();
  await page.locator('#page').focus();
  await page.keyboard.press('r');
  await page.locator('#reject', { hasText: 'Confirm' }).waitFor();
  assert.ok(existsSync(spamFile), 'one r alone deletes nothing');
  await page.keyboard.press('r');
  await page.locator('.queue .empty').waitFor();
  assert.ok(!existsSync(spamFile), 'the rejected case file is deleted');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected handler ran in Review');
  const checked = check();
  assert.ok(checked.ok, `evals check passes once the case is approved:\n${checked.out}`);

  step('the Runs page lists the suite\'s runs with its pass-rate trend');
  await page.goto(`${url}#/runs`);
  await page.waitForSelector('.runs-list .item');
  assert.equal(await page.locator('.runs-list .item').count(), 2);
  await page.waitForSelector('.chart svg circle');
  assert.equal(await page.locator('.chart svg circle').count(), 2, 'one trend point per run');
  await shoot('runs');

  step('a run compared with its baseline: the gate decision and a regression\'s diff');
  await page.locator('.runs-list .item').first().click();
  await page.waitForSelector('.cases-list .item');
  const base = await page.locator('select[name=base] option').nth(1).getAttribute('value');
  await page.selectOption('select[name=base]', base);
  await page.waitForSelector('#decision');
  assert.match(await page.locator('#decision').innerText(), /Gate\s+failed/);
  assert.match(await page.locator('#decision').innerText(), /regressions/);
  await page.locator('.classes a', { hasText: /^regressed/ }).click();
  await page.waitForFunction(() => location.hash.includes('class=regressed'));
  await page.waitForSelector('.cases-list .item');
  const regressed = await page.locator('.cases-list .item').count();
  assert.equal(regressed, 2, 'the two regressed cases');
  await shoot('run-compare');
  // No case of these runs carries a failure category: the filter goes to the API and empties the list.
  await page.selectOption('select[name=failure]', 'hallucination');
  await page.waitForFunction(() => location.hash.includes('failure=hallucination') && location.hash.includes('class=regressed'));
  await page.locator('.cases-list .empty').waitFor();
  await page.selectOption('select[name=failure]', '');
  await page.waitForFunction(() => document.querySelectorAll('.cases-list .item').length === 2);
  await page.locator('.cases-list .item', { hasText: 'call-tool-get-weather' }).click();
  await page.waitForSelector('.drawer .diff');
  assert.match(await page.locator('.drawer .diff .del').first().innerText(), /TOOL RESULT: Sunny/);
  assert.match(await page.locator('.drawer .diff .ins').first().innerText(), /RÉSULTAT : Sunny/);
  assert.match(await page.locator('.drawer').innerText(), /call_tool get_weather city=Paris/, 'the case input is shown');
  assert.match(await page.locator('.drawer').innerText(), /similarity/, 'the grader reason is shown');
  await shoot('run-case', false);
  await page.keyboard.press('Escape');
  await page.waitForSelector('.drawer', { state: 'detached' });
  await page.goto(`${url}#/runs`);
  await page.locator('.runs-list .item').first().click();
  await page.waitForSelector('.cases-list .item');
  await page.locator('.classes a', { hasText: /^fail/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('.cases-list .item').length === 2);

  step('a 10,000-case run renders lazily, page by page, without moving the page');
  await page.goto(`${bigUrl}#/runs`);
  await page.locator('.runs-list .item').first().click();
  await page.waitForSelector('.cases-list .item');
  // Opened afresh, as a pasted link would be: the shift count and the first-row mark start here.
  await page.reload();
  await page.waitForSelector('.cases-list .item');
  const bigFirstRow = await page.evaluate(() => performance.getEntriesByName('evals:first-row')[0]?.startTime);
  console.log(`ui-e2e: time to first row of a 10,000-case run: ${Math.round(bigFirstRow)} ms`);
  const before = await page.evaluate(() => document.documentElement.scrollHeight);
  const loaded0 = await page.locator('.cases-list .item').count();
  assert.ok(loaded0 < 10000, `only the first page is rendered (${loaded0} rows)`);
  for (let i = 0; i < 6; i += 1) {
    await page.mouse.wheel(0, 6000);
    await page.waitForTimeout(250);
  }
  await page.waitForFunction((n) => document.querySelectorAll('.cases-list .item').length > n, loaded0);
  const loaded = await page.locator('.cases-list .item').count();
  const after = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.equal(after, before, 'the page keeps its height while rows load (space reserved)');
  const shift = await page.evaluate(() => window.__shift);
  assert.ok(shift < 0.001, `no layout shift, got ${shift}`);
  console.log(`ui-e2e: 10,000-case run: ${loaded0} rows at first, ${loaded} after scrolling, layout shift ${shift.toFixed(4)}`);
  await page.evaluate(() => window.scrollTo(0, 0));
  // The reserved height of 10,000 rows is too tall for a full-page capture.
  await shoot('run-10000', false);

  step('with a token: refused without it, and kept for the tab once given in the address');
  await page.goto(`${tokenUrl}#/traces`);
  await page.locator('#alert', { hasText: /token/i }).waitFor();
  provoked(401);
  await page.goto(`${tokenUrl}?token=${token}#/traces`);
  await page.locator('.traces .item').first().waitFor();
  assert.ok(!page.url().includes(token), 'the token is taken out of the address');
  await page.reload();
  await page.locator('.traces .item').first().waitFor();

  step('no errors in the browser console');
  assert.deepEqual(consoleErrors, []);
  console.log(`ui-e2e: passed; screenshots in ${shots}`);
} catch (e) {
  console.error(`ui-e2e: failed at step "${stepName}" on ${page.url()}`);
  await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  if (consoleErrors.length) console.error(`browser console errors:\n${consoleErrors.join('\n')}`);
  throw e;
} finally {
  await browser.close();
}
