import fc from 'fast-check';
import { computeFee } from './fees';
import { batchIdFor, parseBatchId } from './batch-id';

describe('fees', () => {
  it('is bps of the amount rounded half away from zero plus the fixed part', () => {
    expect(computeFee(10_000n, 150, 10)).toBe(160n); // 150 + 10
    expect(computeFee(1_033n, 150, 0)).toBe(15n); // 15.495 -> 15
    expect(computeFee(1_034n, 150, 0)).toBe(16n); // 15.51 -> 16
    expect(computeFee(100n, 5_000, 0)).toBe(50n);
    expect(computeFee(1n, 5_000, 0)).toBe(1n); // 0.5 -> 1 (half away from zero)
  });

  it('never exceeds the amount, so the net is never negative', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 1_000_000 }), (amount, bps, fixed) => {
        const fee = computeFee(amount, bps, fixed);
        return fee >= 0n && fee <= amount;
      }),
      { numRuns: 1000 },
    );
  });
});

describe('batch ids', () => {
  it('are deterministic per merchant, currency and cutoff window', () => {
    const t = Date.parse('2026-11-29T10:17:00Z');
    expect(batchIdFor('m-1', 'EUR', t, 3600)).toBe('m-1.EUR.20261129T100000Z');
    expect(batchIdFor('m-1', 'EUR', t + 60_000, 3600)).toBe(batchIdFor('m-1', 'EUR', t, 3600));
    expect(batchIdFor('m-1', 'EUR', t + 3_600_000, 3600)).not.toBe(batchIdFor('m-1', 'EUR', t, 3600));
  });
});

describe('batch id parsing', () => {
  it('reads merchant, currency, window and sequence back, also for merchants with dots', () => {
    expect(parseBatchId('m-1.EUR.20261129T100000Z')).toEqual({ merchantId: 'm-1', currency: 'EUR', windowLabel: '20261129T100000Z', seq: 1 });
    expect(parseBatchId('shop.eu.GBP.20261129T100000Z.3')).toEqual({ merchantId: 'shop.eu', currency: 'GBP', windowLabel: '20261129T100000Z', seq: 3 });
    expect(parseBatchId('m-1.EUR.2026')).toBeUndefined();
    expect(parseBatchId('m-1.EUR.20261129T100000Z.1')).toBeUndefined();
    expect(parseBatchId('EUR.20261129T100000Z')).toBeUndefined();
  });
});
