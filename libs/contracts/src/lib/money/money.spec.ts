import fc from 'fast-check';
import { CURRENCY_EXPONENTS, CurrencyCode, currencyExponent, isCurrencyCode } from './currencies';
import {
  add,
  allocate,
  compare,
  formatDecimal,
  fromJson,
  isZero,
  MAX_MINOR_UNITS,
  Money,
  money,
  MoneyError,
  mulDivRound,
  negate,
  parseDecimal,
  subtract,
  toJson,
  toMinor,
} from './money';

const RUNS = { numRuns: 1000 };
const CODES = Object.keys(CURRENCY_EXPONENTS) as CurrencyCode[];
const TWO_POW_53 = 2n ** 53n;

/** Amounts well beyond 2^53 (and beyond MAX_MINOR_UNITS) in both signs: arithmetic must stay exact. */
const minorArb = fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n });
const currencyArb = fc.constantFrom(...CODES);
const moneyArb = (currency: CurrencyCode): fc.Arbitrary<Money> => minorArb.map((minor) => ({ minor, currency }));

describe('currencies', () => {
  it('covers exactly the exponents 0, 2, 3 and 4', () => {
    expect([...new Set(Object.values(CURRENCY_EXPONENTS))].sort()).toEqual([0, 2, 3, 4]);
  });

  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['EUR', 2],
    ['USD', 2],
    ['KWD', 3],
    ['BHD', 3],
    ['UYW', 4],
  ] as const)('%s has %i decimal places', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it('knows only upper-case ISO 4217 codes, not prototype keys', () => {
    expect(isCurrencyCode('EUR')).toBe(true);
    expect(isCurrencyCode('eur')).toBe(false);
    expect(isCurrencyCode('XXX')).toBe(false);
    expect(isCurrencyCode('toString')).toBe(false);
    expect(isCurrencyCode('__proto__')).toBe(false);
  });
});

describe('money() and toMinor()', () => {
  it('accepts bigint, safe integers and integer strings', () => {
    expect(money(1050n, 'EUR')).toEqual({ minor: 1050n, currency: 'EUR' });
    expect(money(1050, 'EUR')).toEqual({ minor: 1050n, currency: 'EUR' });
    expect(money('-1050', 'EUR')).toEqual({ minor: -1050n, currency: 'EUR' });
  });

  it('refuses unknown currencies, fractions, unsafe numbers and non-canonical strings', () => {
    expect(() => money(1, 'XXX')).toThrow(new MoneyError('unknown ISO 4217 currency: XXX'));
    expect(() => toMinor(10.5)).toThrow(MoneyError);
    expect(() => toMinor(Number.MAX_SAFE_INTEGER + 1)).toThrow('minor units must be a safe integer');
    expect(() => toMinor(Number.NaN)).toThrow(MoneyError);
    for (const text of ['10.50', '1e3', '', ' 1', '01', '+1', '0x10', '--1']) expect(() => toMinor(text)).toThrow('minor units must be an integer string');
  });

  it('is exact beyond 2^53 when given a string or bigint', () => {
    expect(toMinor('9007199254740993')).toBe(TWO_POW_53 + 1n);
    expect(money('123456789012345678901234567890', 'EUR').minor).toBe(123456789012345678901234567890n);
  });
});

describe('add / subtract', () => {
  it('add is commutative', () => {
    fc.assert(
      fc.property(currencyArb, minorArb, minorArb, (currency, x, y) => {
        const a = { minor: x, currency };
        const b = { minor: y, currency };
        expect(add(a, b)).toEqual(add(b, a));
      }),
      RUNS,
    );
  });

  it('add is associative', () => {
    fc.assert(
      fc.property(moneyArb('EUR'), moneyArb('EUR'), moneyArb('EUR'), (a, b, c) => {
        expect(add(add(a, b), c)).toEqual(add(a, add(b, c)));
      }),
      RUNS,
    );
  });

  it('subtract undoes add, and a - b = a + (-b) = -(b - a)', () => {
    fc.assert(
      fc.property(moneyArb('KWD'), moneyArb('KWD'), (a, b) => {
        expect(subtract(add(a, b), b)).toEqual(a);
        expect(subtract(a, b)).toEqual(add(a, negate(b)));
        expect(subtract(a, b)).toEqual(negate(subtract(b, a)));
        expect(isZero(subtract(a, a))).toBe(true);
      }),
      RUNS,
    );
  });

  it('(a + b) - c = a + (b - c)', () => {
    fc.assert(
      fc.property(moneyArb('JPY'), moneyArb('JPY'), moneyArb('JPY'), (a, b, c) => {
        expect(subtract(add(a, b), c)).toEqual(add(a, subtract(b, c)));
      }),
      RUNS,
    );
  });

  it('is exact beyond 2^53 (where doubles would round)', () => {
    const a = { minor: TWO_POW_53, currency: 'EUR' } as const;
    const b = { minor: 1n, currency: 'EUR' } as const;
    expect(add(a, b).minor).toBe(9007199254740993n);
    expect(toJson(add(a, b))).toEqual({ minor: '9007199254740993', currency: 'EUR' });
    expect(subtract(add(a, b), a).minor).toBe(1n);
  });

  it('refuses to mix currencies', () => {
    expect(() => add(money(1, 'EUR'), money(1, 'USD'))).toThrow('currency mismatch: EUR vs USD');
    expect(() => subtract(money(1, 'EUR'), money(1, 'JPY'))).toThrow(MoneyError);
    expect(() => compare(money(1, 'EUR'), money(1, 'USD'))).toThrow(MoneyError);
  });

  it('compare orders by minor units', () => {
    fc.assert(
      fc.property(moneyArb('EUR'), moneyArb('EUR'), (a, b) => {
        const expected = a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
        expect(compare(a, b)).toBe(expected);
        expect(compare(b, a)).toBe(-expected || 0);
      }),
      RUNS,
    );
  });
});

describe('formatDecimal / parseDecimal', () => {
  it('parseDecimal(formatDecimal(m)) === m for every currency and exponent', () => {
    fc.assert(
      fc.property(currencyArb, minorArb, (currency, minor) => {
        const m = { minor, currency };
        expect(parseDecimal(formatDecimal(m), currency)).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['JPY', 0],
    ['EUR', 2],
    ['KWD', 3],
    ['UYW', 4],
  ] as const)('round-trips %s (exponent %i) both ways on canonical decimal strings', (currency, exponent) => {
    // canonical text built independently: integer part without leading zeros, exactly `exponent` fraction digits
    const canonical = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** BigInt(exponent) - 1n }))
      .filter(([negative, whole, fraction]) => !negative || whole !== 0n || fraction !== 0n)
      .map(([negative, whole, fraction]) => {
        const body = exponent === 0 ? whole.toString() : `${whole}.${fraction.toString().padStart(exponent, '0')}`;
        return { text: negative ? `-${body}` : body, minor: (negative ? -1n : 1n) * (whole * 10n ** BigInt(exponent) + fraction) };
      });
    fc.assert(
      fc.property(canonical, ({ text, minor }) => {
        const parsed = parseDecimal(text, currency);
        expect(parsed).toEqual({ minor, currency });
        expect(formatDecimal(parsed)).toBe(text);
      }),
      RUNS,
    );
  });

  it.each([
    ['JPY', '1050', 1050n],
    ['JPY', '0', 0n],
    ['EUR', '10.50', 1050n],
    ['EUR', '10.5', 1050n],
    ['EUR', '10', 1000n],
    ['EUR', '0.01', 1n],
    ['EUR', '-0.01', -1n],
    ['KWD', '1.050', 1050n],
    ['KWD', '0.001', 1n],
    ['UYW', '0.0001', 1n],
    ['EUR', '90071992547409.93', 9007199254740993n],
  ] as const)('parses %s %s as %s minor units', (currency, text, minor) => {
    expect(parseDecimal(text, currency)).toEqual({ minor, currency });
  });

  it.each([
    ['JPY', 1050n, '1050'],
    ['EUR', 1050n, '10.50'],
    ['EUR', 5n, '0.05'],
    ['EUR', -5n, '-0.05'],
    ['KWD', 1050n, '1.050'],
    ['KWD', 1n, '0.001'],
    ['UYW', 12345n, '1.2345'],
    ['EUR', 0n, '0.00'],
  ] as const)('formats %s %s as %s', (currency, minor, text) => {
    expect(formatDecimal({ minor, currency })).toBe(text);
  });

  it('refuses more fraction digits than the currency has, for any amount (no silent rounding)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CurrencyCode>('JPY', 'EUR', 'KWD', 'UYW'),
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 9 }),
        (currency, whole, extra, lastDigit) => {
          const digits = currencyExponent(currency) + extra;
          const text = `${whole}.${'0'.repeat(digits - 1)}${lastDigit}`;
          expect(() => parseDecimal(text, currency)).toThrow(`${currency} has ${currencyExponent(currency)} decimal places; got ${digits}`);
        },
      ),
      RUNS,
    );
    expect(() => parseDecimal('10.500', 'EUR')).toThrow(MoneyError);
    expect(() => parseDecimal('1.5', 'JPY')).toThrow('JPY has 0 decimal places; got 1');
    expect(() => parseDecimal('1.0505', 'KWD')).toThrow('KWD has 3 decimal places; got 4');
  });

  it('refuses malformed text and unknown currencies', () => {
    for (const text of ['', '.', '1.', '.5', '01.00', '1,00', '1e2', '+1', '1 000', 'NaN', 'Infinity', '--1', '0x10']) {
      expect(() => parseDecimal(text, 'EUR')).toThrow(MoneyError);
    }
    expect(() => parseDecimal('1.00', 'EURO')).toThrow('unknown ISO 4217 currency: EURO');
  });
});

/** round(p / q) half away from zero, checked by its definition rather than by re-implementing it. */
function isHalfAwayFromZeroRounding(p: bigint, q: bigint, r: bigint): boolean {
  const abs = (x: bigint): bigint => (x < 0n ? -x : x);
  const twiceError = abs(2n * (p - r * q)); // 2 * |p/q - r| * q
  if (twiceError < q) return true; // strictly nearest integer
  if (twiceError > q) return false;
  return abs(r * q) > abs(p); // exactly half way: r must be the neighbour further from zero
}

describe('mulDivRound', () => {
  it('equals exact rational rounding, half away from zero', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        (value, numerator, denominator) => {
          const r = mulDivRound(value, numerator, denominator);
          expect(isHalfAwayFromZeroRounding(value * numerator, denominator, r)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rounds exact halves away from zero, in both signs', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), (k) => {
        // (2k + 1) / 2 is always exactly half way
        const r = mulDivRound(2n * k + 1n, 1n, 2n);
        expect(r).toBe(k >= 0n ? k + 1n : k);
        expect(mulDivRound(-(2n * k + 1n), 1n, 2n)).toBe(-r);
      }),
      RUNS,
    );
  });

  it('is odd-symmetric: refunds mirror charges', () => {
    fc.assert(
      fc.property(minorArb, fc.bigInt({ min: 0n, max: 10_000n }), (value, bps) => {
        expect(mulDivRound(-value, bps, 10_000n)).toBe(-mulDivRound(value, bps, 10_000n));
      }),
      RUNS,
    );
  });

  it.each([
    [1050n, 250n, 10_000n, 26n], // 2.5 % of 10.50 EUR = 0.2625 -> 0.26
    [1050n, 290n, 10_000n, 30n], // 2.9 % of 10.50 EUR = 0.3045 -> 0.30
    [1050n, 300n, 10_000n, 32n], // 3 % of 10.50 EUR = 0.315 -> 0.32 (half away from zero)
    [-1050n, 300n, 10_000n, -32n],
    [1050n, 150n, 10_000n, 16n], // 1.5 % of 1050 JPY = 15.75 -> 16
    [1005n, 50n, 10_000n, 5n], // 0.5 % of 1.005 KWD = 0.005025 -> 0.005
    [5n, 1n, 2n, 3n],
    [-5n, 1n, 2n, -3n],
    [5n, -1n, 2n, -3n],
    [4n, 1n, 2n, 2n],
    [1n, 1n, 3n, 0n],
    [2n, 1n, 3n, 1n],
    [0n, 7n, 3n, 0n],
  ])('mulDivRound(%s, %s, %s) = %s', (value, numerator, denominator, expected) => {
    expect(mulDivRound(value, numerator, denominator)).toBe(expected);
  });

  it('is exact beyond 2^53', () => {
    // (2^53 + 1) * 3 / 2 = 13510798882111489.5 -> 13510798882111490
    expect(mulDivRound(TWO_POW_53 + 1n, 3n, 2n)).toBe(13510798882111490n);
    expect(mulDivRound(MAX_MINOR_UNITS, 9_999n, 10_000n)).toBe(999_900_000_000_000n);
  });

  it('refuses a zero or negative denominator', () => {
    expect(() => mulDivRound(1n, 1n, 0n)).toThrow('denominator must be positive');
    expect(() => mulDivRound(1n, 1n, -2n)).toThrow(MoneyError);
  });
});

describe('allocate', () => {
  const ratiosArb = fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { minLength: 1, maxLength: 12 }).filter((rs) => rs.some((r) => r > 0n));

  it('conserves the total, keeps the currency and gives each share less than one unit from its exact part', () => {
    fc.assert(
      fc.property(currencyArb, minorArb, ratiosArb, (currency, minor, ratios) => {
        const shares = allocate({ minor, currency }, ratios);
        const total = ratios.reduce((s, r) => s + r, 0n);
        expect(shares).toHaveLength(ratios.length);
        expect(shares.reduce((s, x) => s + x.minor, 0n)).toBe(minor);
        const bad = shares.filter((share, i) => {
          const ratio = ratios[i] ?? 0n;
          // |share - minor * ratio / total| < 1  <=>  |share * total - minor * ratio| < total
          const error = share.minor * total - minor * ratio;
          return share.currency !== currency || error >= total || -error >= total || (ratio === 0n && share.minor !== 0n);
        });
        expect(bad).toEqual([]);
      }),
      RUNS,
    );
  });

  it('splits equally with shares differing by at most one minor unit, larger shares first', () => {
    fc.assert(
      fc.property(minorArb, fc.integer({ min: 1, max: 50 }), (minor, n) => {
        const shares = allocate({ minor, currency: 'EUR' }, Array.from({ length: n }, () => 1n)).map((s) => s.minor);
        const max = shares.reduce((a, b) => (b > a ? b : a));
        const min = shares.reduce((a, b) => (b < a ? b : a));
        expect(max - min <= 1n).toBe(true);
        expect(shares.reduce((s, x) => s + x, 0n)).toBe(minor);
        // the extra units go to the first shares (by magnitude)
        const magnitudes = shares.map((s) => (s < 0n ? -s : s));
        expect([...magnitudes].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(magnitudes);
      }),
      RUNS,
    );
  });

  it('splits a negative amount as the mirror image of the positive one', () => {
    fc.assert(
      fc.property(minorArb, ratiosArb, (minor, ratios) => {
        const positive = allocate({ minor, currency: 'EUR' }, ratios).map((s) => s.minor);
        const negative = allocate({ minor: -minor, currency: 'EUR' }, ratios).map((s) => s.minor);
        expect(negative).toEqual(positive.map((x) => -x));
      }),
      RUNS,
    );
  });

  it.each([
    [100n, [1n, 1n, 1n], [34n, 33n, 33n]],
    [-100n, [1n, 1n, 1n], [-34n, -33n, -33n]],
    [5n, [1n, 1n], [3n, 2n]],
    [1n, [0n, 1n, 1n], [0n, 1n, 0n]],
    [10n, [1n, 3n], [3n, 7n]], // 2.5 and 7.5: tie broken by position
    [100n, [1n, 2n], [33n, 67n]], // 33.33 and 66.67: largest remainder gets the unit
    [1000n, [7000n, 2000n, 1000n], [700n, 200n, 100n]],
    [0n, [1n, 2n], [0n, 0n]],
  ])('allocate(%s, %j) = %j', (minor, ratios, expected) => {
    expect(allocate({ minor, currency: 'EUR' }, ratios).map((s) => s.minor)).toEqual(expected);
  });

  it('refuses empty, all-zero or negative ratios', () => {
    const m = money(100, 'EUR');
    expect(() => allocate(m, [])).toThrow(MoneyError);
    expect(() => allocate(m, [0n, 0n])).toThrow('ratios must be non-negative with a positive sum');
    expect(() => allocate(m, [2n, -1n])).toThrow(MoneyError);
  });
});

describe('toJson / fromJson', () => {
  it('round-trips through JSON text without losing precision', () => {
    fc.assert(
      fc.property(currencyArb, minorArb, (currency, minor) => {
        const m = { minor, currency };
        const wire = JSON.stringify(toJson(m));
        expect(fromJson(JSON.parse(wire))).toEqual(m);
      }),
      RUNS,
    );
  });

  it('writes minor units as a decimal string', () => {
    expect(JSON.stringify(toJson(money(1050n, 'EUR')))).toBe('{"minor":"1050","currency":"EUR"}');
  });
});

describe('docs/money.md', () => {
  const fee = (minor: bigint, bps: bigint): bigint => mulDivRound(minor, bps, 10_000n);

  it('section 3: decimal text', () => {
    expect(parseDecimal('1050', 'JPY').minor).toBe(1050n);
    expect(() => parseDecimal('1050.5', 'JPY')).toThrow('JPY has 0 decimal places');
    expect(parseDecimal('10.50', 'EUR').minor).toBe(1050n);
    expect(parseDecimal('10.5', 'EUR').minor).toBe(1050n);
    expect(() => parseDecimal('10.505', 'EUR')).toThrow('EUR has 2 decimal places');
    expect(formatDecimal(parseDecimal('1.050', 'KWD'))).toBe('1.050');
    expect(() => parseDecimal('1.0505', 'KWD')).toThrow('KWD has 3 decimal places');
    expect(formatDecimal(money(12345n, 'UYW'))).toBe('1.2345');
    expect(parseDecimal('10.50', 'KWD').minor).toBe(10500n);
    expect(parseDecimal('10.50', 'UYW').minor).toBe(105000n);
  });

  it.each([
    ['JPY', 1050n, 150n, 16n, '1034'],
    ['JPY', 1050n, 50n, 5n, '1045'],
    ['EUR', 1050n, 250n, 26n, '10.24'],
    ['EUR', 1050n, 300n, 32n, '10.18'],
    ['EUR', -1050n, 300n, -32n, '-10.18'],
    ['KWD', 1050n, 250n, 26n, '1.024'],
    ['KWD', 100n, 50n, 1n, '0.099'],
  ] as const)('section 4: %s %s minor at %s bp: fee %s, net %s', (currency, minor, bps, expectedFee, net) => {
    const f = fee(minor, bps);
    expect(f).toBe(expectedFee);
    expect(formatDecimal(subtract(money(minor, currency), money(f, currency)))).toBe(net);
  });

  it('section 5: a third of 100 three times loses a unit, allocate does not', () => {
    expect(3n * mulDivRound(100n, 1n, 3n)).toBe(99n);
    expect(allocate(money(100n, 'JPY'), [1n, 1n, 1n]).map((m) => m.minor)).toEqual([34n, 33n, 33n]);
    expect(allocate(money(10000n, 'EUR'), [1n, 1n, 1n]).map(formatDecimal)).toEqual(['33.34', '33.33', '33.33']);
    expect(allocate(money(5n, 'EUR'), [1n, 1n]).map(formatDecimal)).toEqual(['0.03', '0.02']);
    expect(allocate(money(-100n, 'EUR'), [1n, 1n, 1n]).map(formatDecimal)).toEqual(['-0.34', '-0.33', '-0.33']);
    expect(allocate(money(1000n, 'KWD'), [1n, 2n]).map(formatDecimal)).toEqual(['0.333', '0.667']);
    expect(allocate(money(1n, 'EUR'), [0n, 1n, 1n]).map(formatDecimal)).toEqual(['0.00', '0.01', '0.00']);
  });
});
