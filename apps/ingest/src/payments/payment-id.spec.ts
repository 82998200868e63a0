import { PaymentIdSchema } from '@payrail/contracts';
import { paymentIdFor } from './payment-id';

describe('paymentIdFor', () => {
  it('gives the same request the same id, whatever was lost, and is a valid UUID version 8', () => {
    const id = paymentIdFor('psp-a', { idempotencyKey: 'order-42' });
    expect(paymentIdFor('psp-a', { idempotencyKey: 'order-42' })).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(PaymentIdSchema.safeParse(id).success).toBe(true);
  });

  it('separates upstreams, keys, and keys from jtis', () => {
    const ids = new Set([
      paymentIdFor('psp-a', { idempotencyKey: 'order-42' }),
      paymentIdFor('psp-b', { idempotencyKey: 'order-42' }),
      paymentIdFor('psp-a', { idempotencyKey: 'order-43' }),
      paymentIdFor('psp-a', { jti: 'order-42' }),
      // no ambiguity from the separator: "a\0b" + "c" is not "a" + "b\0c"
      paymentIdFor('psp-a\u0000idempotency-key', { idempotencyKey: 'x' }),
      paymentIdFor('psp-a', { idempotencyKey: 'idempotency-key\u0000x' }),
    ]);
    expect(ids.size).toBe(6);
  });

  it('draws no two ids alike over 50,000 keys', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) ids.add(paymentIdFor('psp-a', { idempotencyKey: `k-${i}` }));
    expect(ids.size).toBe(50_000);
  });
});
