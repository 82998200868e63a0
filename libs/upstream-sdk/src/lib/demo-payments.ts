// A realistic little stream: several upstreams, cards and accounts, several currencies, and a share of payments
// that trip fraud rules (amount above the review limit, a blocked BIN). Deterministic for a given seed.
import { PaymentSubmission } from '@payrail/contracts';

const MERCHANTS = [
  { merchant_id: 'm-coffee-berlin', mcc: '5814', country: 'DE' },
  { merchant_id: 'm-books-paris', mcc: '5942', country: 'FR' },
  { merchant_id: 'm-travel-london', mcc: '4722', country: 'GB' },
  { merchant_id: 'm-games-tokyo', mcc: '5816', country: 'JP' },
];
/** The merchants demo payments go to: what the demo upstreams are registered to pay. */
export const DEMO_MERCHANT_IDS: readonly string[] = MERCHANTS.map((m) => m.merchant_id);
const CURRENCY_BY_COUNTRY: Record<string, 'EUR' | 'GBP' | 'JPY' | 'USD'> = { DE: 'EUR', FR: 'EUR', GB: 'GBP', JP: 'JPY' };

/** Small deterministic PRNG (mulberry32): the same seed gives the same stream. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function withLuhnDigit(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${partial}${(10 - (sum % 10)) % 10}`;
}

export type DemoKind = 'normal' | 'review' | 'decline';

export function demoPayment(i: number, random: () => number): { payment: PaymentSubmission; kind: DemoKind } {
  const merchant = MERCHANTS[i % MERCHANTS.length] ?? MERCHANTS[0];
  if (!merchant) throw new Error('no merchants');
  const currency = CURRENCY_BY_COUNTRY[merchant.country] ?? 'EUR';
  const roll = random();
  const kind: DemoKind = roll < 0.05 ? 'decline' : roll < 0.1 ? 'review' : 'normal';
  const base = currency === 'JPY' ? 100 : 1; // JPY has no minor unit
  const minor = kind === 'review' ? (currency === 'JPY' ? 35_000_000 : 250_000) : Math.floor(100 + random() * 20_000) * base;
  const useCard = kind === 'decline' || random() < 0.7;
  const bin = kind === 'decline' ? '400000' : ['411111', '555555', '378282'][i % 3] ?? '411111';
  const digits = String(Math.floor(random() * 1e9)).padStart(9, '0');
  const payer: PaymentSubmission['payer'] = useCard
    ? { type: 'card', card: { number: withLuhnDigit(`${bin}${digits}`), expiry_month: 1 + (i % 12), expiry_year: 2029, country: merchant.country } }
    : { type: 'account', account: { number: `DE89370400440532${String(i % 1_000_000).padStart(6, '0')}`, country: 'DE' } };
  return {
    kind,
    payment: {
      upstream_reference: `demo-${Date.now().toString(36)}-${i}`,
      amount: { minor: String(minor), currency },
      payer,
      payee: merchant,
      description: 'demo payment',
      // one shopper, one address and one device: many cards from one IP or device is what card testing looks like
      context: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, country: merchant.country, device_id: `device-${i}` },
    },
  };
}
