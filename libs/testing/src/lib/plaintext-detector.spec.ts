import { findPlaintextNumbers, scanWrittenData } from './plaintext-detector';

const CARD = '4111111111111111';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const b64u = (s: string): string => Buffer.from(s).toString('base64url');
const hex = (s: string): string => Buffer.from(s).toString('hex');
/** A compact JWS as an upstream signs it: the payment (with the card number) is base64url JSON in the payload. */
const jws = (payload: unknown): string => `${b64u(JSON.stringify({ alg: 'ES256', kid: 'psp-alpha-1' }))}.${b64u(JSON.stringify(payload))}.${b64u('signature-bytes-xx')}`;

describe('findPlaintextNumbers', () => {
  const known = { cards: [CARD], accounts: ['DE89370400440532013000'] };
  const only = (text: string, k = known) => findPlaintextNumbers([{ where: 'x', text }], k).map(({ kind, encoding, via, masked }) => ({ kind, encoding, via, masked }));

  it('finds the known numbers and card-like numbers, and prints them masked', () => {
    const findings = findPlaintextNumbers(
      [
        { where: 'a', text: `{"number":"${CARD}"}` },
        { where: 'b', text: 'iban DE89370400440532013000 here' },
        { where: 'c', text: 'other card 5555555555554444 in a log' },
        { where: 'd', text: `a hex id does not hide a known card: 0e672842${CARD}abc` },
      ],
      known,
    );
    expect(findings.map(({ where, kind, masked }) => ({ where, kind, masked }))).toEqual([
      { where: 'a', kind: 'known-card', masked: '4111********1111' },
      { where: 'b', kind: 'known-account', masked: '******************3000' },
      { where: 'c', kind: 'card-like', masked: '5555********4444' },
      { where: 'd', kind: 'known-card', masked: '4111********1111' },
    ]);
  });

  it('finds a number written with spaces or dashes', () => {
    expect(only('card 4111 1111 1111 1111 and 5555-5555-5555-4444')).toEqual([
      { kind: 'known-card', encoding: 'decimal', via: [], masked: '4111********1111' },
      { kind: 'card-like', encoding: 'decimal', via: [], masked: '5555********4444' },
    ]);
  });

  it.each([
    ['base64', b64(CARD)],
    ['base64url', b64u(`{"pan":"${CARD}"}`)],
    ['hex', hex(CARD)],
    ['hex', hex(`pan=${CARD};`).toUpperCase()],
  ] as const)('finds a card number standalone in %s', (encoding, text) => {
    expect(only(`value ${text} end`)).toEqual([{ kind: 'known-card', encoding, via: [encoding], masked: '4111********1111' }]);
  });

  it('finds an unknown card-like number in base64 too', () => {
    expect(only(b64('5555555555554444'), { cards: [], accounts: [] })).toEqual([{ kind: 'card-like', encoding: 'base64', via: ['base64'], masked: '5555********4444' }]);
  });

  it('finds the card number inside a JWS payload, and inside base64 inside a JWS, and a hex-encoded message holding a JWS', () => {
    const token = jws({ jti: 'j-1', payment: { payer: { type: 'card', card: { number: CARD } } } });
    expect(only(JSON.stringify({ jws: token }))).toEqual([{ kind: 'known-card', encoding: 'base64url', via: ['base64url'], masked: '4111********1111' }]);
    expect(only(jws({ blob: b64(CARD) }))).toEqual([{ kind: 'known-card', encoding: 'base64url', via: ['base64url', 'base64'], masked: '4111********1111' }]);
    expect(only(hex(JSON.stringify({ jws: token })))).toEqual([{ kind: 'known-card', encoding: 'hex', via: ['hex', 'base64url'], masked: '4111********1111' }]);
  });

  it('does not take Luhn-invalid runs, timestamps, fractions, fingerprints, JWEs or masked numbers for card numbers', () => {
    const texts = [
      '{"time":"2026-11-29T12:00:00.000Z","ts":1764417600000,"tat":1764417600123456}',
      '{"responseTime":0.4111111111111111}',
      '{"masked":"4111********1111","fingerprint":"k3Jm0yJ4cX0-9sQ2mR8aWcQm1Zb7Yt2Lr5nV6pXu1eE"}',
      'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00ifQ.aW52YWxpZA.MTIz.NDU2.Nzg5',
      '4111111111111112 fails Luhn',
      b64('4111111111111112 fails Luhn in base64'),
      hex('4111111111111112'),
      '{"observed":{"sum_minor":"6999999999996545","max_sum_minor":"5555555555554444"},"amount":{"minor":"4111111111111111"}}',
      // a trace id whose first 15 characters are a Luhn-valid digit run (seen in an e2e run's settlement log)
      '{"trace_id":"573639147815627d0e672842e0ea492d","span_id":"ccd79efe11ec00f8"}',
      // a traceparent header whose span id is all decimal digits: joined with its flags ("-00") it is an 18-digit
      // Luhn-valid run (a CI run's accepted topic)
      'correlationid=p-1\ntraceparent=00-1c363296ac1ce58d9c036a58679378af-4556056799951225-00',
      // a payment id whose first three groups are decimal digits, Luhn-valid once joined (a CI run's Redis key)
      'redis:payrail:payment:{66315697-3302-8169-ac7e-adb9581198d4} {"payment_id":"66315697-3302-8169-ac7e-adb9581198d4"}',
    ].map((text, i) => ({ where: String(i), text }));
    expect(findPlaintextNumbers(texts, { cards: [], accounts: [] })).toEqual([]);
  });
});

describe('scanWrittenData', () => {
  it('counts what each source held, what it decoded and found, per encoding, and the numbers found', () => {
    const report = scanWrittenData(
      {
        kafka: [{ where: 'kafka:inbound/0@1', text: JSON.stringify({ jws: jws({ payment: { number: CARD } }) }) }],
        redis: [{ where: 'redis:k', text: `k\n${hex(CARD)}` }],
        logs: [{ where: 'log:ingest.log:1', text: '{"msg":"nothing here"}' }],
      },
      { cards: [CARD], accounts: [] },
      new Date('2026-12-05T00:00:00Z'),
    );
    expect(report.numbers_found).toBe(2);
    expect(report.findings_by_encoding).toEqual({ decimal: 0, base64: 0, base64url: 1, hex: 1 });
    expect(report.sources['kafka']).toMatchObject({ texts: 1, findings: { base64url: 1 } });
    expect(report.sources['kafka']?.decoded.base64url).toBeGreaterThanOrEqual(2);
    expect(report.sources['redis']).toMatchObject({ texts: 1, decoded: { hex: 1 }, findings: { hex: 1 } });
    expect(report.sources['logs']).toMatchObject({ texts: 1, findings: { decimal: 0, base64: 0, base64url: 0, hex: 0 } });
    expect(JSON.stringify(report)).not.toContain(CARD);
  });
});
