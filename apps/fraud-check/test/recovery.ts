// What the Redis-loss tests share: a rule set that declines a blocklisted IP and holds a blocklisted merchant for
// review, payments with their own card and device, and waits on what fraud-check published or queued.
import { randomUUID } from 'node:crypto';
import type { PaymentScreened } from '@payrail/contracts';
import { reviewKey } from '../src/review/review-queue.store';
import { FraudCheckHarness, Received } from './fraud-check-harness';
import { fingerprintOf, instruction } from './payments';

export const RECOVERY_RULESET = {
  version: 'it-recovery.1',
  thresholds: { review: 50, decline: 100 },
  rules: [
    { id: 'blocklist.ip', type: 'blocklist', list: 'ip', score: 100 },
    { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 50 },
  ],
};

export const recoveryPayment = (o: { ip?: string; merchant?: string } = {}) =>
  instruction({ card: { fingerprint: fingerprintOf(`card-${randomUUID()}`) }, context: { ip: o.ip ?? '192.0.2.10', device_id: `dev-${randomUUID()}` }, merchant: o.merchant ?? 'm-recovery' });

/** The payment's screened events once there are at least `count`. */
export function screenedEvents(h: FraudCheckHarness, paymentId: string, count: number): Promise<Received<PaymentScreened>[]> {
  return h.reader.until(`${count} screened events of ${paymentId}`, () => {
    const all = h.reader.screenedOf(paymentId);
    return all.length >= count ? all : undefined;
  });
}

/** Waits until the payment's review exists (it is queued together with the decision being published). */
export async function untilReviewQueued(h: FraudCheckHarness, paymentId: string): Promise<void> {
  for (let i = 0; i < 100 && (await h.redis.exists(reviewKey(paymentId))) === 0; i++) await new Promise((res) => setTimeout(res, 50));
}

/** Starts one fraud-check instance with the recovery rule set and an operator with write access for the test file. */
export function startRecoveryHarness(started: (h: FraudCheckHarness) => void): void {
  let h: FraudCheckHarness | undefined;
  beforeAll(async () => {
    h = await FraudCheckHarness.start({ ruleset: RECOVERY_RULESET, operators: [{ id: 'ops.writer', role: 'write' }] });
    started(h);
  });
  afterAll(async () => {
    await h?.stop();
  });
}

/** Blocklists a new IP (payments from it are declined) and a new merchant (held for review) through the admin API. */
export async function blocklistIpAndMerchant(h: FraudCheckHarness): Promise<{ ip: string; merchant: string }> {
  const ip = `203.0.113.${Math.floor(Math.random() * 200) + 20}`;
  const merchant = `m-held-${randomUUID().slice(0, 8)}`;
  expect((await h.admin('POST', '/admin/v1/blocklists/ip/entries', 'ops.writer', { value: ip, reason: 'test' })).status).toBe(201);
  expect((await h.admin('POST', '/admin/v1/blocklists/merchant/entries', 'ops.writer', { value: merchant, reason: 'test' })).status).toBe(201);
  return { ip, merchant };
}
