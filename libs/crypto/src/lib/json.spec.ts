import { b64uByteLength, hasCanonicalTail, isB64u } from './base64url';
import { parseStrictJson, scanJson } from './json';

describe('scanJson / parseStrictJson', () => {
  it.each([
    ['{"a":1,"a":2}', 'duplicate'],
    ['{"alg":"ES256","\\u0061lg":"none"}', 'duplicate'],
    ['{"x":{"v":1,"v":1000}}', 'duplicate'],
    ['[{"a":1},{"a":2}]', null],
    ['{"a":{"a":{"a":1}}}', null],
    ['{"a":"}{\\"a\\":1","b":["a","a"]}', null],
    ['{"a":[1,{"b":2,"c":{"b":3}}],"b":4}', null],
  ])('%s -> %s', (text, expected) => {
    expect(scanJson(text)).toBe(expected);
  });

  it('bounds nesting depth', () => {
    expect(scanJson('['.repeat(40) + ']'.repeat(40))).toBe('depth');
    expect(scanJson('['.repeat(10) + ']'.repeat(10))).toBeNull();
  });

  it('returns undefined for invalid, duplicated or too deep JSON and the value otherwise', () => {
    expect(parseStrictJson('{"a":1')).toBeUndefined();
    expect(parseStrictJson('{"a":1,"a":1}')).toBeUndefined();
    expect(parseStrictJson('{"a":[1,2],"b":"x"}')).toEqual({ a: [1, 2], b: 'x' });
    expect(parseStrictJson('"text"')).toBe('text');
  });
});

describe('strict base64url', () => {
  it('accepts canonical unpadded base64url only', () => {
    for (let n = 0; n < 40; n++) {
      const s = Buffer.alloc(n, 0xa5).toString('base64url');
      expect(isB64u(s)).toBe(true);
      expect(b64uByteLength(s)).toBe(n);
    }
    expect(isB64u('YQ==')).toBe(false); // padding
    expect(isB64u('a+b/')).toBe(false); // base64, not base64url
    expect(isB64u('abcde')).toBe(false); // length 1 mod 4
    expect(isB64u('YR')).toBe(false); // non-zero trailing bits: "YQ" is the canonical encoding of "a"
    expect(hasCanonicalTail('YQ')).toBe(true);
    expect(isB64u('ab c')).toBe(false);
  });
});
