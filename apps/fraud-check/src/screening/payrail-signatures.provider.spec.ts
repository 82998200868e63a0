// What a failed check of Payrail's signature means for screening: a verdict declines the payment as tampered (no
// instruction), an unreadable JWKS is no verdict and makes the event wait (DependencyUnavailableError).
import { PaymentSigned } from '@payrail/contracts';
import { CryptoError, JwsVerifier } from '@payrail/crypto';
import { DependencyUnavailableError } from '@payrail/messaging';
import { PayrailSignatures, verifiedInstruction } from './payrail-signatures.provider';

const signed = { payment_id: '0b5e4c1e-2f6d-4a59-9d3f-1f0f5c2b7a11', instruction_jws: 'a.b.c' } as PaymentSigned;
const failingWith = (reason: ConstructorParameters<typeof CryptoError>[0]) =>
  ({ verifier: () => ({ verify: async () => Promise.reject(new CryptoError(reason)) }) as unknown as JwsVerifier }) as unknown as PayrailSignatures;

describe('verifiedInstruction', () => {
  it.each(['signature', 'kid', 'retired', 'typ', 'format'] as const)('gives no instruction (the payment is declined as tampered) when the signature check says %s', async (reason) => {
    expect(await verifiedInstruction(failingWith(reason), signed)).toBeUndefined();
  });

  it('makes the event wait, declining nothing, while the signing JWKS cannot be read', async () => {
    await expect(verifiedInstruction(failingWith('unavailable'), signed)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
