import { BLOCKLIST_VALUE_SCHEMAS, normaliseIp } from './blocklist';
import { blocklistProbes } from '../engine/fraud-engine';
import { parseRuleSet } from '../rules/ruleset';
import { instruction } from '../../test/payments';

describe('blocklist values', () => {
  it('normalises IP addresses so a listed address matches however it is written', () => {
    expect(normaliseIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normaliseIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normaliseIp('203.0.113.7')).toBe('203.0.113.7');
    expect(BLOCKLIST_VALUE_SCHEMAS.ip.parse('2001:db8:0::1')).toBe('2001:db8::1');
    expect(BLOCKLIST_VALUE_SCHEMAS.ip.safeParse('203.0.113.256').success).toBe(false);
  });

  it('accepts fingerprints but never a card or account number', () => {
    expect(BLOCKLIST_VALUE_SCHEMAS.card.safeParse('fp_6b1f0c2e9a7d4e3b8c5a1f0e').success).toBe(true);
    expect(BLOCKLIST_VALUE_SCHEMAS.card.safeParse('4111111111111111').success).toBe(false);
    expect(BLOCKLIST_VALUE_SCHEMAS.account.safeParse('Zk2xQm9vYmFyYmF6cXV1eF9hY2NvdW50').success).toBe(true);
    expect(BLOCKLIST_VALUE_SCHEMAS.account.safeParse('DE89370400440532013000').success).toBe(false); // an IBAN
    expect(BLOCKLIST_VALUE_SCHEMAS.account.safeParse('89370400440532013000').success).toBe(false);
    expect(BLOCKLIST_VALUE_SCHEMAS.bin.safeParse('411111').success).toBe(false);
    expect(BLOCKLIST_VALUE_SCHEMAS.country.safeParse('de').success).toBe(false);
  });

  it('looks a payment up only in the lists its rule set uses, naming where each value came from', () => {
    const { ruleset } = parseRuleSet(
      JSON.stringify({ version: 'v', thresholds: { review: 1, decline: 2 }, rules: ['card', 'bin', 'ip', 'country'].map((list) => ({ id: `bl.${list}`, type: 'blocklist', list, score: 1 })) }),
      'test',
    );
    const p = instruction({ card: { bin: '5353', country: 'DE' }, context: { ip: '2001:DB8::1', country: 'FR' } });
    expect(blocklistProbes(ruleset, p)).toEqual([
      { list: 'card', value: p.payer.fingerprint, field: 'payer.fingerprint' },
      ...['5', '53', '535', '5353'].map((value) => ({ list: 'bin', value, field: 'payer.bin' })),
      { list: 'ip', value: '2001:db8::1', field: 'context.ip' },
      { list: 'country', value: 'DE', field: 'payer.country' },
      { list: 'country', value: 'FR', field: 'context.country' },
    ]);
  });
});
