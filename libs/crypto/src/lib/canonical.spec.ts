import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { CanonicalObject, canonicalJson } from './canonical';

/** The same value with every object's members inserted in a different order. */
function reorder(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, seed + 1));
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    const rotated = entries.length === 0 ? entries : [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse();
    const out: Record<string, unknown> = {};
    for (const [k, x] of rotated) Object.defineProperty(out, k, { value: reorder(x, seed + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

describe('canonicalJson (RFC 8785)', () => {
  it('matches the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts members by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = JSON.parse('{"\\u20ac":1,"\\r":2,"\\ufb33":3,"1":4,"\\ud83d\\ude00":5,"\\u0080":6,"\\u00f6":7}');
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts "1" (an array index) first in its own enumeration, so compare the text order instead
    const text = canonicalJson(input);
    const order = ['\\r', '"1"', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(k));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(keys).toHaveLength(7);
  });

  it.each([
    [0, '0'],
    [-0, '0'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [9007199254740992, '9007199254740992'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [-1.5, '-1.5'],
  ])('serialises the number %p as %s', (n, s) => {
    expect(canonicalJson(n)).toBe(s);
  });

  it('omits undefined members like JSON, and serialises Dates through toJSON', () => {
    expect(canonicalJson({ b: undefined, a: new Date(0) })).toBe('{"a":"1970-01-01T00:00:00.000Z"}');
  });

  it.each([
    ['NaN', { a: Number.NaN }, /NaN at \$\.a/],
    ['Infinity', [1, Number.POSITIVE_INFINITY], /Infinity at \$\[1\]/],
    ['a function', { f: () => 1 }, /function at \$\.f/],
    ['a bigint', { n: 1n }, /bigint/],
    ['a symbol', { s: Symbol('x') }, /symbol/],
    ['undefined in an array', [undefined], /undefined at \$\[0\]/],
    ['undefined at the top', undefined, /undefined/],
    ['a Map', { m: new Map() }, /Map at \$\.m/],
    ['a Set', { s: new Set([1]) }, /Set/],
    ['a Buffer', { b: Buffer.from('x') }, /Buffer|Uint8Array/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it('refuses cycles and excessive depth but accepts shared (acyclic) references', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expect(() => canonicalJson(a)).toThrow(/cycle/);
    const shared = { x: 1 };
    expect(canonicalJson({ p: shared, q: shared })).toBe('{"p":{"x":1},"q":{"x":1}}');
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
  });

  it('is byte-identical to the canonicalize package for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 300 },
    );
  });

  it('is stable under member order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (v, seed) => {
        expect(canonicalJson(reorder(v, seed))).toBe(canonicalJson(v));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through JSON.parse to a value with the same canonical form', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('CanonicalObject (a plain object canonicalised member by member)', () => {
  const objects = fc.dictionary(fc.string(), fc.jsonValue());

  it('is byte-identical to canonicalJson of the object, with a member added or replaced, and without one', () => {
    fc.assert(
      fc.property(objects, fc.string(), fc.jsonValue(), (o, name, value) => {
        const c = CanonicalObject.of(o);
        expect(c.json).toBe(canonicalJson(o));
        expect(c.with(name, value).json).toBe(canonicalJson({ ...o, [name]: value }));
        const { [name]: _gone, ...rest } = o;
        expect(c.without(name).json).toBe(canonicalJson(rest));
        const first = Object.keys(o)[0];
        if (first !== undefined) {
          const { [first]: _first, ...others } = o;
          expect(c.without(first).json).toBe(canonicalJson(others));
          expect(c.with(first, value).json).toBe(canonicalJson({ ...o, [first]: value }));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the object it came from as it was, omits undefined members, and refuses what canonicalJson refuses', () => {
    const c = CanonicalObject.of({ b: 1, a: undefined, seal: 'x' });
    expect(c.with('signed_at', '2026-12-06T00:00:00.000Z').without('seal').json).toBe('{"b":1,"signed_at":"2026-12-06T00:00:00.000Z"}');
    expect(c.with('b', undefined).json).toBe('{"seal":"x"}');
    expect(c.json).toBe('{"b":1,"seal":"x"}');
    expect(() => CanonicalObject.of({ n: Number.NaN })).toThrow(/NaN at \$\.n/);
    expect(() => c.with('f', () => 1)).toThrow(/function at \$\.f/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => CanonicalObject.of(cyclic)).toThrow(/cycle/);
  });

  it('takes only plain objects (no arrays, class instances or toJSON)', () => {
    expect(() => CanonicalObject.of([1] as unknown as object)).toThrow(/not a plain object/);
    expect(() => CanonicalObject.of(new Date(0))).toThrow(/not a plain object/);
    expect(() => CanonicalObject.of({ toJSON: () => 'x' })).toThrow(/not a plain object/);
    expect(CanonicalObject.of(Object.create(null) as object).json).toBe('{}');
  });
});
