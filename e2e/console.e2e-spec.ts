// The operator console in a real browser (Debian's chromium driven by playwright-core), against the four services
// and the console running as separate processes (started by `npm test`): while a payment stream runs, the counts on
// the page move without a reload; a viewer sees everything and can act on nothing; an operator's sign-in, a refused
// action and a sign-out are in the audit trail; an operator approves a payment in REVIEW with a click and it
// settles, and replays a dead letter with a click onto its original topic; a screenshot of the console is kept.
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import { REPLAY_HEADERS, TOPICS } from '@payrail/contracts';
import { publishRawMessage, readTopicFrom, topicEnds } from '@payrail/testing';
import { UpstreamClient, demoPayment, prng, withLuhnDigit } from '@payrail/upstream-sdk';

const keys = JSON.parse(process.env['PAYRAIL_KEYS_JSON'] ?? '{}') as { upstreamKeysDir: string; consoleCredentialsFile: string; consoleFraudTokenFile: string; settlementOperatorTokenFile: string };
const ports = JSON.parse(process.env['PAYRAIL_PORTS_JSON'] ?? '{}') as Record<string, number>;
const consoleUrl = `http://127.0.0.1:${ports['console']}`;
const ingestUrl = `http://127.0.0.1:${ports['ingest']}`;
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
const screenshots = [join(process.env['PAYRAIL_TEST_RUN_DIR'] ?? '.payrail', 'console.png'), ...(process.env['PAYRAIL_CONSOLE_SCREENSHOT'] ? [process.env['PAYRAIL_CONSOLE_SCREENSHOT']] : [])];

/** The flags the project runs Chromium with (headless, no sandbox as root, nothing that reaches the network). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Credentials {
  operator: { username: string; password: string };
  viewer: { username: string; password: string };
}

const STAGES = ['ingest', 'signing', 'fraud-check', 'settlement'] as const;

async function signIn(context: BrowserContext, who: { username: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(consoleUrl);
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await page.click('#sign-in');
  await page.waitForSelector('[data-testid="stage-ingest-total"]');
  return page;
}

async function counts(page: Page): Promise<Record<(typeof STAGES)[number], number>> {
  const read = async (stage: string) => Number(await page.locator(`[data-testid="stage-${stage}-total"]`).textContent());
  const [ingest, signing, fraud, settlement] = await Promise.all(STAGES.map(read));
  return { ingest: ingest ?? 0, signing: signing ?? 0, 'fraud-check': fraud ?? 0, settlement: settlement ?? 0 };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A small demo stream over HTTP: ordinary payments, one above the review limit, one from a blocked BIN. */
async function paymentStream(clients: UpstreamClient[], count: number): Promise<string[]> {
  const random = prng(Date.now() % 100_000);
  const jobs = Array.from({ length: count }, (_, i) => {
    const { payment } = demoPayment(i, () => Math.max(0.11, random()));
    if (i === 3) return { ...payment, upstream_reference: `review-${randomUUID()}`, amount: { minor: '250000', currency: 'EUR' as const }, payee: { merchant_id: 'm-coffee-berlin', mcc: '5814', country: 'DE' } };
    if (i === 5) return { ...payment, upstream_reference: `blocked-${randomUUID()}`, payer: { type: 'card' as const, card: { number: withLuhnDigit('400000123456789'), expiry_month: 5, expiry_year: 2030 } } };
    return payment;
  });
  const accepted: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (next < jobs.length) {
        const i = next++;
        const client = clients[i % clients.length];
        const payment = jobs[i];
        if (!client || !payment) return;
        const res = await client.submit(client.signPayment(payment), randomUUID());
        if (res.status === 202) accepted.push(String(res.body['payment_id']));
        await new Promise((r) => setTimeout(r, 250)); // a stream (about 12/s over 5 s), not a burst: the page has time to show it moving
      }
    }),
  );
  return accepted;
}

describe('operator console in a real browser', () => {
  const credentials = JSON.parse(readFileSync(keys.consoleCredentialsFile, 'utf8')) as Credentials;
  let browser: Browser;
  let clients: UpstreamClient[];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: process.env['PAYRAIL_CHROMIUM'] || '/usr/bin/chromium', args: CHROMIUM_ARGS });
    clients = await Promise.all(['psp-alpha', 'bank-beta', 'shop-gamma'].map((id) => UpstreamClient.open(id, join(keys.upstreamKeysDir, id, 'private.jwks.json'), ingestUrl)));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows counts moving through the four stages while payments stream, with throughput, lag, decisions and the active key', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1400 } });
    const page = await signIn(context, credentials.viewer);
    const before = await counts(page);
    const approvals = async () => Number(await page.locator('[data-testid="decision-APPROVE"]').textContent());
    const approvedBefore = await approvals();

    const seen = new Set<number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        seen.add((await counts(page)).ingest);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const accepted = await paymentStream(clients, 60);
    expect(accepted.length).toBe(60);
    // every approval settles; how many the rules hold (the review and the blocked BIN at least, velocity maybe) is
    // the fraud engine's business, counted from the page's own decision panel
    const after = await until('every accepted payment on the page through fraud-check, and every approved one settled', async () => {
      const now = await counts(page);
      const approved = (await approvals()) - approvedBefore;
      return now.ingest >= before.ingest + 60 && now.signing >= before.signing + 60 && now['fraud-check'] >= before['fraud-check'] + 60 && approved >= 50 && now.settlement >= before.settlement + approved ? now : undefined;
    });
    sampling = false;
    await sampler;

    // the page followed the stream live (several intermediate values), not just the end state
    expect([...seen].filter((v) => v > before.ingest && v < after.ingest).length).toBeGreaterThanOrEqual(2);
    expect(Number(await page.locator('[data-testid="stage-fraud-check-review"]').textContent())).toBeGreaterThanOrEqual(1);
    expect(Number(await page.locator('[data-testid="decision-DECLINE"]').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#rules').textContent()).toContain('amount.review_limit');
    expect(await page.locator('[data-testid="stage-ingest-rate"]').textContent()).toMatch(/^[0-9]+\.[0-9]\/s$/);
    expect(Number(await page.locator('[data-testid="stage-ingest-rate"]').textContent().then((t) => t?.replace('/s', '')))).toBeGreaterThan(0);
    for (const stage of STAGES) await until(`${stage} lag shown`, async () => ((await page.locator(`[data-testid="stage-${stage}-lag"]`).textContent())?.match(/^[0-9]+$/) ? true : undefined));

    // the key signing publishes and uses is shown active
    const jwks = (await (await fetch(`http://127.0.0.1:${ports['signing']}/.well-known/jwks.json`)).json()) as { keys: { kid: string; use: string }[] };
    const signingKid = jwks.keys.find((k) => k.use === 'sig')?.kid ?? '';
    await until('the active key', async () => ((await page.locator(`[data-testid="key-state-${signingKid}"]`).textContent()) === 'active' ? true : undefined), 45_000);

    // the payment in REVIEW is listed
    await until('a payment in the REVIEW queue', async () => (Number(await page.locator('[data-testid="reviews-total"]').textContent()) >= 1 ? true : undefined));
    await context.close();
  });

  it('lets a viewer see everything and act on nothing; every refusal is audited', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, credentials.viewer);
    await until('the REVIEW queue rendered', async () => ((await page.locator('#reviews-body tr[data-payment-id]').count()) > 0 ? true : undefined));
    expect(await page.locator('#who-role').textContent()).toBe('viewer');
    expect(await page.locator('#reviews-body button[data-action="approve"]').first().isDisabled()).toBe(true);

    const paymentId = await page.locator('#reviews-body tr[data-payment-id]').first().getAttribute('data-payment-id');
    // a viewer who bypasses the disabled button is refused by the server, and the attempt is audited
    const attempt = await page.evaluate(async (id) => {
      const session = (await (await fetch('/api/session')).json()) as { csrf_token: string };
      const res = await fetch(`/api/reviews/${id}/decision`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ decision: 'APPROVE' }) });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { type: string } };
    }, paymentId);
    expect(attempt.status).toBe(403);
    expect(attempt.type).toContain('application/problem+json');
    expect(attempt.body.type).toBe('https://payrail.dev/problems/forbidden');

    // without the CSRF token nothing is even tried
    const forged = await page.evaluate(async (id) => (await fetch(`/api/reviews/${id}/decision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'APPROVE' }) })).status, paymentId);
    expect(forged).toBe(403);

    await until('the refused attempt in the audit trail', async () => {
      const rows = await page.locator('#audit-body tr').allTextContents();
      return rows.some((r) => r.includes(credentials.viewer.username) && r.includes('review.approve') && r.includes('forbidden')) ? true : undefined;
    });
    await context.close();
  });

  it('signs an operator in with an HttpOnly SameSite=Strict cookie, audits it (a refused attempt only in metrics), and ends the session on sign-out', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1400 } });
    const wrong = await context.newPage();
    await wrong.goto(consoleUrl);
    await wrong.fill('#username', credentials.operator.username);
    await wrong.fill('#password', 'not-the-password');
    await wrong.click('#sign-in');
    await until('the refusal', async () => ((await wrong.locator('#sign-in-error').textContent())?.includes('wrong password') ? true : undefined));
    await wrong.close();

    const page = await signIn(context, credentials.operator);
    const [cookie] = await context.cookies(consoleUrl);
    expect(cookie).toMatchObject({ name: 'payrail_console_session', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: no script can read the session
    expect(await page.locator('#who-role').textContent()).toBe('operator');

    await until('the sign-in in the audit trail', async () => {
      const rows = await page.locator('#audit-body tr').allTextContents();
      const mine = rows.filter((r) => r.includes(credentials.operator.username) && r.includes('session.sign-in'));
      return mine.some((r) => r.includes('ok')) ? true : undefined;
    });
    // the refused attempt is no operator's action: counted in the console's metrics, not written into the trail
    const rows = await page.locator('#audit-body tr').allTextContents();
    expect(rows.filter((r) => r.includes('session.sign-in') && r.includes('denied'))).toEqual([]);
    const metrics = await (await fetch(`${consoleUrl}/metrics`)).text();
    const refused = /^payrail_operator_access_refused_total\{[^}]*surface="console"[^}]*reason="denied"[^}]*\} (\d+)/m.exec(metrics);
    expect(Number(refused?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    await until('the settled totals', async () => ((await page.locator('#totals-body tr').count()) > 0 && !(await page.locator('#totals-body tr.empty').count()) ? true : undefined));

    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-form');
    // the session is gone on the server, not just the cookie in this browser
    const replayed = await fetch(`${consoleUrl}/api/snapshot`, { headers: { cookie: `${cookie?.name}=${cookie?.value}` } });
    expect(replayed.status).toBe(401);
    await context.close();
  });

  it('lets an operator approve a payment in REVIEW with a click: fraud-check records it, it settles, and the page shows the batch', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1600 } });
    const page = await signIn(context, credentials.operator);
    const client = clients[0];
    if (!client) throw new Error('no upstream client');
    // a shopper of its own (card or account, IP and device): the streams of the other e2e tests reuse the low demo
    // indexes, and their velocity on the same shopper would add enough to decline it instead (review 50 + first
    // payee 30 = 80, below the decline threshold of 100)
    const { payment } = demoPayment(500_000 + randomInt(400_000), () => 0.5);
    const merchantId = 'm-coffee-berlin';
    const submitted = await client.submit(client.signPayment({ ...payment, upstream_reference: `review-click-${randomUUID()}`, amount: { minor: '250000', currency: 'EUR' }, payee: { merchant_id: merchantId, mcc: '5814', country: 'DE' } }), randomUUID());
    expect(submitted.status).toBe(202);
    const paymentId = String(submitted.body['payment_id']);

    // listed from fraud-check's admin API, then approved by a click
    const row = page.locator(`#reviews-body tr[data-payment-id="${paymentId}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await page.locator('#reviews-source').textContent()).toContain('fraud-check admin API');
    await row.locator('button[data-action="approve"]').click();
    await until('the approval confirmed', async () => ((await page.locator('#toast').textContent())?.includes('Approved') ? true : undefined), 15_000);

    // ingest's history: the analyst's decision continued the payment to settlement
    const settled = await until('the approved payment settled', async () => {
      const res = await client.status(paymentId);
      return res.status === 200 && res.body['state'] === 'settled' ? res.body : undefined;
    });
    expect((settled['history'] as { stage: string }[]).map((h) => h.stage)).toContain('settled');
    const batchId = (settled['settlement'] as { batch_id: string }).batch_id;

    // fraud-check holds the decision as the person who clicked, vouched for by the console's token (console:<user>)
    const fraudToken = readFileSync(keys.consoleFraudTokenFile, 'utf8').trim();
    const review = (await (await fetch(`http://127.0.0.1:${ports['fraud-check']}/admin/v1/reviews/${paymentId}`, { headers: { authorization: `Bearer ${fraudToken}` } })).json()) as { status: string; outcome?: { decision: string; analyst: string; note?: string } };
    expect(review).toMatchObject({ status: 'decided', outcome: { decision: 'APPROVE', analyst: `console:${credentials.operator.username}` } });

    // settlement's API holds it in that batch, and the page shows the batch (read from the same API) and the settled event
    const settlementToken = readFileSync(keys.settlementOperatorTokenFile, 'utf8').trim();
    const batch = (await (await fetch(`http://127.0.0.1:${ports['settlement']}/v1/settlements/batches/${encodeURIComponent(batchId)}`, { headers: { authorization: `Bearer ${settlementToken}` } })).json()) as { payment_ids: string[] };
    expect(batch.payment_ids).toContain(paymentId);
    await page.locator(`#batches-body tr[data-batch-id="${batchId}"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator('#ledger-note').textContent()).toContain('settlement API');
    await until('balances from the settlement API', async () => ((await page.locator('#balances-body tr').allTextContents()).some((r) => r.includes(merchantId) && r.includes('merchant_payable')) ? true : undefined), 30_000);
    await page.locator(`#recent-body tr[data-payment-id="${paymentId}"][data-outcome="settled"]`).waitFor({ timeout: 15_000 });
    await page.locator(`#audit-body tr[data-operator="${credentials.operator.username}"][data-action="review.approve"][data-target="${paymentId}"][data-outcome="decided"]`).waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('lists a dead letter an undecodable message became, and replays it to its original topic with a click, audited', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 2000 } });
    const page = await signIn(context, credentials.operator);
    // the real way: a message signing cannot decode, on the topic signing consumes
    const topic = TOPICS.paymentsAccepted.name;
    const value = 'this is not a CloudEvent';
    const landed = await publishRawMessage(brokers, topic, { key: `e2e-undecodable-${randomUUID()}`, value });
    const original = `${topic}/${landed.partition}/${landed.offset}`;

    const row = page.locator(`#dlq-body tr[data-original="${original}"]`);
    await row.waitFor({ timeout: 45_000 });
    const ref = (await row.getAttribute('data-ref')) ?? '';
    expect(ref).toMatch(/^payrail\.dlq\.signing\.v1\/[0-9]+\/[0-9]+$/);

    const before = await topicEnds(brokers, topic);
    await row.locator('button[data-action="replay"]').click();
    const toast = await until('the replay confirmed', async () => {
      const text = await page.locator('#toast').textContent();
      return text?.includes(`Replay ${ref}`) ? text : undefined;
    }, 30_000);
    expect(toast).toContain(': replayed → ');

    // the copy is on the original topic, same value, carrying the replay headers that point back at the dead letter
    const copies = (await readTopicFrom(brokers, topic, before)).filter((m) => m.headers[REPLAY_HEADERS.replayOf] === ref);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.value).toBe(value);
    expect(Date.parse(copies[0]?.headers[REPLAY_HEADERS.replayedAt] ?? '')).not.toBeNaN();

    // once only: a second click finds the replay already done
    await row.locator('button[data-action="replay"]').click();
    await until('the second replay refused as done', async () => ((await page.locator('#toast').textContent())?.includes(': already-replayed') ? true : undefined), 30_000);
    // both clicks are in the audit trail: who, which dead letter, how it ended, and where the copy went
    const audited = (outcome: string) => page.locator(`#audit-body tr[data-operator="${credentials.operator.username}"][data-action="dead-letter.replay"][data-target="${ref}"][data-outcome="${outcome}"]`);
    await audited('already-replayed').waitFor({ timeout: 15_000 });
    expect(await audited('replayed').locator('td').last().getAttribute('title')).toBe(`copy at ${topic}/${copies[0]?.partition}/${copies[0]?.offset}`);
    for (const file of screenshots) await page.screenshot({ path: file, fullPage: true });
    await context.close();
  });
});
