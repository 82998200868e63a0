import { PaymentSubmissionSchema } from '@payrail/contracts';
import { luhnValid } from '@payrail/crypto';
import { demoPayment, prng, withLuhnDigit } from './demo-payments';


describe('demo payments', () => {
  it('appends a correct Luhn check digit', () => {
    expect(withLuhnDigit('411111111111111')).toBe('4111111111111111');
    expect(withLuhnDigit('37828224631000')).toBe('378282246310005');
  });

  it('produces schema-valid payments with Luhn-valid cards, deterministically for a seed', () => {
    const a = prng(42);
    const b = prng(42);
    for (let i = 0; i < 500; i++) {
      const x = demoPayment(i, a);
      const y = demoPayment(i, b);
      expect(PaymentSubmissionSchema.safeParse(x.payment).success).toBe(true);
      expect(x.payment.amount).toEqual(y.payment.amount);
      if (x.payment.payer.type === 'card') expect(luhnValid(x.payment.payer.card.number)).toBe(true);
    }
  });

  it('includes payments meant to trip fraud rules', () => {
    const random = prng(7);
    const kinds = new Set(Array.from({ length: 300 }, (_, i) => demoPayment(i, random).kind));
    expect(kinds).toEqual(new Set(['normal', 'review', 'decline']));
  });
});
