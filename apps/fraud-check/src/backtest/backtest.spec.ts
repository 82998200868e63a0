import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwsSigner, JwsVerifier, PAYRAIL_SIGNING_ALGS, PayrailKeyStore, generateDevKeys } from '@payrail/crypto';
import { fingerprintOf, instruction } from '../../test/payments';
import { InMemoryBlocklists } from '../blocklist/blocklist';
import { parseRuleSet } from '../rules/ruleset';
import { replayOrder, runBacktest } from './backtest';
import { renderBacktest } from './backtest-report';
import { paymentsFromFile } from './payment-sources';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const rules = (version: string, rs: unknown[]) => parseRuleSet(JSON.stringify({ version, thresholds: { review: 50, decline: 100 }, rules: rs }), version).ruleset;

const current = rules('current.1', [{ id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '100000' } }]);
const candidate = rules('candidate.1', [
  { id: 'amount.review', type: 'amount_limit', score: 50, limits: { EUR: '50000' } },
  { id: 'velocity.card.1m', type: 'velocity', dimension: 'card', window: '1m', max_count: 2, score: 100 },
  { id: 'blocklist.merchant', type: 'blocklist', list: 'merchant', score: 100 },
]);

describe('runBacktest', () => {
  it('replays in acceptance order with its own velocity per rule set and reports every changed decision', async () => {
    const busy = { fingerprint: fingerprintOf('busy') };
    const payments = [
      instruction({ at: T0 + 3_000, card: busy }), // third of the busy card: velocity fires in the candidate only
      instruction({ at: T0, card: busy }),
      instruction({ at: T0 + 1_000, card: busy }),
      instruction({ at: T0 + 4_000, minor: '60000', card: { fingerprint: fingerprintOf('a') } }), // between the two review limits
      instruction({ at: T0 + 5_000, minor: '150000', card: { fingerprint: fingerprintOf('b') } }), // REVIEW in both
      instruction({ at: T0 + 6_000, merchant: 'm-blocked', card: { fingerprint: fingerprintOf('c') } }),
    ];
    const blocklists = new InMemoryBlocklists({ merchant: new Map([['m-blocked', { value: 'm-blocked', added_by: 'x', added_at: '' }]]) });
    const redelivered = payments.slice(0, 1);
    const result = await runBacktest([...payments, ...redelivered], { current, candidate, blocklists, examplesPerTransition: 1 });

    expect(result.payments).toBe(6); // the repeated payment counts once
    expect(result.current.decisions).toEqual({ APPROVE: 5, REVIEW: 1, DECLINE: 0 });
    expect(result.candidate.decisions).toEqual({ APPROVE: 2, REVIEW: 2, DECLINE: 2 });
    expect(result.transitions).toEqual({
      APPROVE: { APPROVE: 2, REVIEW: 1, DECLINE: 2 },
      REVIEW: { APPROVE: 0, REVIEW: 1, DECLINE: 0 },
      DECLINE: { APPROVE: 0, REVIEW: 0, DECLINE: 0 },
    });
    expect(result.changed).toBe(3);
    expect(result.candidate.rule_hits).toEqual({ 'amount.review': 2, 'velocity.card.1m': 1, 'blocklist.merchant': 1 });
    // one example per transition, with the reasons on both sides
    expect(result.examples.map((e) => `${e.current.decision}->${e.candidate.decision}`)).toEqual(['APPROVE->DECLINE', 'APPROVE->REVIEW']);
    expect(result.examples[0]).toMatchObject({ payment_id: payments[0]?.payment_id, candidate: { reasons: [{ rule: 'velocity.card.1m', observed: { count: 3 } }] } });
    expect(result.from).toBe(new Date(T0).toISOString());

    const text = renderBacktest(result, { current: 'current.json', candidate: 'candidate.json', source: 'payments.ndjson' });
    expect(text).toContain('backtest: 6 payments from payments.ndjson');
    expect(text).toContain('changed decisions: 3 (50.0%)');
    expect(text).toMatch(/APPROVE\s+2\s+1\s+2/);
    expect(text).toContain('velocity.card.1m(+100 window=1m count=3 max_count=2)');
    expect(text).toContain('600.00 EUR');
  });

  it('orders ties by payment id and keeps the first copy of a payment', () => {
    const a = instruction({ at: T0, paymentId: '01936f3e-0000-7000-8000-000000000002' });
    const b = instruction({ at: T0, paymentId: '01936f3e-0000-7000-8000-000000000001' });
    expect(replayOrder([a, b, a]).map((p) => p.payment_id)).toEqual([b.payment_id, a.payment_id]);
  });
});

describe('paymentsFromFile', () => {
  it('reads instructions and signed or screened events, verifying signatures when given keys, and counts what it skips', async () => {
    const keys = await generateDevKeys({ alg: 'ES256', withEncryptionKey: false });
    const store = await PayrailKeyStore.fromJwks(keys.privateJwks, { source: 'test' });
    const signer = new JwsSigner(store);
    const other = new JwsSigner(await PayrailKeyStore.fromJwks((await generateDevKeys({ alg: 'ES256', withEncryptionKey: false })).privateJwks, { source: 'other' }));
    const plain = instruction();
    const signed = instruction();
    const foreign = instruction();
    const dir = mkdtempSync(join(tmpdir(), 'payrail-backtest-'));
    const file = join(dir, 'payments.ndjson');
    writeFileSync(
      file,
      [
        JSON.stringify(plain),
        JSON.stringify({ payment_id: signed.payment_id, kid: signer.kid, instruction_jws: signer.sign(signed) }),
        JSON.stringify({ payment_id: foreign.payment_id, decision: 'APPROVE', instruction_jws: other.sign(foreign) }),
        '',
        'not json',
        JSON.stringify({ payment_id: 'x' }),
      ].join('\n'),
    );
    const unverified = await paymentsFromFile(file);
    expect(unverified.payments.map((p) => p.payment_id)).toEqual([plain.payment_id, signed.payment_id, foreign.payment_id]);
    expect(unverified.skipped['not JSON']).toBe(1);

    const verified = await paymentsFromFile(file, new JwsVerifier(store, { algorithms: PAYRAIL_SIGNING_ALGS }));
    expect(verified.payments.map((p) => p.payment_id)).toEqual([plain.payment_id, signed.payment_id]);
    expect(verified.skipped['signature invalid']).toBe(1);
    expect(Object.keys(verified.skipped).some((k) => k.startsWith('not a payment instruction'))).toBe(true);
  });
});
