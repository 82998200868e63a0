import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { JweDecrypter, JweEncrypter } from '../jwe/jwe';
import { CryptoError, KeyConfigError } from '../lib/errors';
import { keys, storeOf } from '../test/fixtures';
import type { PayrailKeyStore } from '../keys/keystore';
import { FieldProtector, FieldRevealer, PROTECTED_FIELD_HEADER } from './field-protector';
import { fingerprint, fingerprintField } from './fingerprint';
import { luhnValid, maskAccount, maskPan, normaliseIdentifier, panPrefix } from './mask';

const KEY = Buffer.alloc(32, 0x42);

describe('masking and Luhn', () => {
  it.each([
    ['4111111111111111', '4111********1111'],
    ['4111 1111 1111 1111', '4111********1111'],
    ['4111-1111-1111-1111', '4111********1111'],
    ['378282246310005', '378********0005'],
    ['6011111111111111117', '60111**********1117'],
    ['123456789012', '12******9012'],
    ['1234567', '*******'],
    ['1234', '****'],
    ['4111x111', '********'],
    ['', ''],
  ])('maskPan(%p) = %p', (pan, masked) => {
    expect(maskPan(pan)).toBe(masked);
  });

  it('never shows more than the first 6 and last 4 digits, nor more than half of them', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{8,19}$/), (pan) => {
        const masked = maskPan(pan);
        const shown = masked.replace(/\*/g, '').length;
        const lead = masked.length - masked.replace(/^[0-9]+/, '').length;
        expect(masked).toHaveLength(pan.length);
        expect(shown).toBeLessThanOrEqual(Math.floor(pan.length / 2));
        expect(lead).toBeLessThanOrEqual(6);
        expect(masked.slice(-4)).toBe(pan.slice(-4));
        expect(panPrefix(pan)).toBe(masked.slice(0, lead));
      }),
    );
  });

  it('masks accounts to their last 4 characters', () => {
    expect(maskAccount('DE89 3704 0044 0532 0130 00')).toBe('******************3000');
    expect(maskAccount('1234')).toBe('****');
    expect(maskAccount('12345')).toBe('*2345');
  });

  it('checks Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111 1111 1111 1111')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('41111a1111111111')).toBe(false);
    expect(luhnValid('0000000')).toBe(false); // too short for a PAN
    expect(luhnValid('1'.repeat(20))).toBe(false);
  });

  it('normalises numbers written with separators only', () => {
    expect(normaliseIdentifier('4111 1111-1111 1111')).toBe('4111111111111111');
    expect(normaliseIdentifier('DE89 3704')).toBe('DE89 3704');
  });
});

describe('fingerprint', () => {
  it('is HMAC-SHA256 base64url, keyed, deterministic', () => {
    expect(fingerprint(KEY, '4111111111111111')).toBe(createHmac('sha256', KEY).update('4111111111111111').digest('base64url'));
    expect(fingerprint(KEY, 'a')).toBe(fingerprint(KEY, 'a'));
    expect(fingerprint(KEY, 'a')).not.toBe(fingerprint(Buffer.alloc(32, 0x43), 'a'));
  });

  it('refuses keys shorter than 32 bytes', () => {
    expect(() => fingerprint(Buffer.alloc(31), 'a')).toThrow(KeyConfigError);
    expect(() => new FieldProtector({ encrypter: {} as JweEncrypter, fingerprintKey: Buffer.alloc(16) })).toThrow(KeyConfigError);
  });

  it('treats differently written card numbers as the same card', () => {
    expect(fingerprintField(KEY, '4111 1111 1111 1111')).toBe(fingerprintField(KEY, '4111111111111111'));
    expect(fingerprintField(KEY, { a: 1, b: 2 })).toBe(fingerprintField(KEY, { b: 2, a: 1 }));
  });
});

describe('FieldProtector / FieldRevealer', () => {
  let ks: PayrailKeyStore;
  let protector: FieldProtector;
  let revealer: FieldRevealer;
  const payment = {
    payment_id: 'pay_1',
    amount: { value: 1250, currency: 'EUR' },
    card: { pan: '4111 1111 1111 1111', expiry: '12/30', holder: 'Erika Mustermann' },
    payer: { account: 'DE89370400440532013000', email: undefined as string | undefined },
    note: null as string | null,
  };

  beforeAll(async () => {
    ks = await storeOf(keys.ecEnc().privateJwk);
    protector = new FieldProtector({ encrypter: new JweEncrypter(ks), fingerprintKey: KEY });
    revealer = new FieldRevealer({ decrypter: new JweDecrypter(ks) });
  });

  it('encrypts the listed fields, leaves the rest readable, and does not touch the input', async () => {
    const before = JSON.stringify(payment);
    const r = await protector.protect(payment, ['card.pan', 'card.expiry', 'payer.account', 'payer.email', 'note', 'missing.path']);
    expect(JSON.stringify(payment)).toBe(before);
    // static type: protected fields are strings, the others keep their types
    const pan: string = r.data.card.pan;
    const value: number = r.data.amount.value;
    const holder: string = r.data.card.holder;
    expect(pan.split('.')).toHaveLength(5);
    expect(value).toBe(1250);
    expect(holder).toBe('Erika Mustermann');
    expect(r.data.payer.account).toMatch(/^[\w-]+(\.[\w-]*){4}$/);
    expect(r.data.payer.email).toBeUndefined();
    expect(r.data.note).toBeNull();
    expect(Object.keys(r.fields).sort()).toEqual(['card.expiry', 'card.pan', 'payer.account']);
    expect(r.fields['card.pan']).toEqual({ fingerprint: fingerprintField(KEY, '4111111111111111'), masked: '4111********1111' });
    expect(r.fields['payer.account']?.masked).toBe('******************3000');
    expect(r.fields['card.expiry']?.masked).toBe('*****');
    const text = JSON.stringify(r);
    for (const secret of ['4111111111111111', '4111 1111 1111 1111', '1111 1111', '0532013000', '12/30']) expect(text).not.toContain(secret);
  });

  it('reveals what it protected, with the original types', async () => {
    const withNumber = { ...payment, amount: { value: 1250, currency: 'EUR' } };
    const r = await protector.protect(withNumber, ['card.pan', 'amount']);
    const back = await revealer.reveal<typeof withNumber>(r.data, ['card.pan', 'amount']);
    expect(back).toEqual(JSON.parse(JSON.stringify(withNumber)));
  });

  it('binds each ciphertext to its field: swapped ciphertexts are refused', async () => {
    const r = await protector.protect(payment, ['card.pan', 'card.expiry']);
    const swapped = { ...r.data, card: { ...r.data.card, pan: r.data.card.expiry, expiry: r.data.card.pan } };
    await expect(revealer.reveal(swapped, ['card.pan'])).rejects.toThrow(CryptoError);
    const h = JSON.parse(Buffer.from(r.data.card.pan.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(h[PROTECTED_FIELD_HEADER]).toBe('card.pan');
  });

  it('refuses dangerous or overlapping paths', async () => {
    await expect(protector.protect(payment, ['__proto__.polluted'])).rejects.toThrow(TypeError);
    await expect(protector.protect(payment, ['card', 'card.pan'])).rejects.toThrow(/overlap/);
    await expect(protector.protect(payment, ['card..pan'])).rejects.toThrow(TypeError);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('protects a whole sub-object as one field', async () => {
    const r = await protector.protect(payment, ['card']);
    expect(typeof r.data.card).toBe('string');
    expect(r.fields['card']?.masked).toBeUndefined();
    const back = await revealer.reveal<typeof payment>(r.data, ['card']);
    expect(back.card).toEqual(payment.card);
  });
});
