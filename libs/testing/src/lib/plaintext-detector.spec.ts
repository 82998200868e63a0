import { findPlaintextNumbers } from './plaintext-detector';

describe('findPlaintextNumbers', () => {
  const known = { cards: ['4111111111111111'], accounts: ['DE89370400440532013000'] };

  it('finds the known numbers and card-like numbers, and prints them masked', () => {
    const findings = findPlaintextNumbers(
      [
        { where: 'a', text: '{"number":"4111111111111111"}' },
        { where: 'b', text: 'iban DE89370400440532013000 here' },
        { where: 'c', text: 'other card 5555555555554444 in a log' },
        { where: 'd', text: 'a hex id does not hide a known card: 0e6728424111111111111111abc' },
      ],
      known,
    );
    expect(findings).toEqual([
      { where: 'a', kind: 'known-card', masked: '411111******1111' },
      { where: 'b', kind: 'known-account', masked: 'DE8937************3000' },
      { where: 'c', kind: 'card-like', masked: '555555******4444' },
      { where: 'd', kind: 'known-card', masked: '411111******1111' },
    ]);
  });

  it('does not take timestamps, fractions, fingerprints, JWEs or masked numbers for card numbers', () => {
    const texts = [
      '{"time":"2026-11-29T12:00:00.000Z","ts":1764417600000,"tat":1764417600123456}',
      '{"responseTime":0.4111111111111111}',
      '{"masked":"411111******1111","fingerprint":"k3Jm0yJ4cX0-9sQ2mR8aWcQm1Zb7Yt2Lr5nV6pXu1eE"}',
      'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00ifQ.aW52YWxpZA.MTIz.NDU2.Nzg5',
      '4111111111111112 fails Luhn',
      '{"observed":{"sum_minor":"6999999999996545","max_sum_minor":"5555555555554444"},"amount":{"minor":"4111111111111111"}}',
      // a trace id whose first 15 characters are a Luhn-valid digit run (seen in an e2e run's settlement log)
      '{"trace_id":"573639147815627d0e672842e0ea492d","span_id":"ccd79efe11ec00f8"}',
    ].map((text, i) => ({ where: String(i), text }));
    expect(findPlaintextNumbers(texts, { cards: [], accounts: [] })).toEqual([]);
  });
});
