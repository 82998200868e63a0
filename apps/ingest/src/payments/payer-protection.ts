import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { PayerSubmission, ProtectedPayer } from '@payrail/contracts';
import { JweEncrypter, PayrailKeyStore, fingerprint, maskAccount, maskPan } from '@payrail/crypto';
import { INGEST_CONFIG, IngestConfig } from '../config';

/**
 * Card and account numbers leave ingest only as JWE (to the data-protection key), a keyed HMAC fingerprint (so
 * fraud-check can count and block without seeing them) and a masked form.
 */
@Injectable()
export class PayerProtection implements OnModuleInit {
  private encrypter: JweEncrypter | undefined;

  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  async onModuleInit(): Promise<void> {
    this.encrypter = new JweEncrypter(await PayrailKeyStore.fromFile(this.config.protectionJwksFile));
  }

  async protect(payer: PayerSubmission): Promise<ProtectedPayer> {
    if (!this.encrypter) throw new Error('payer protection not initialised');
    if (payer.type === 'card') {
      const { number, expiry_month, expiry_year, country } = payer.card;
      return {
        type: 'card',
        fingerprint: fingerprint(this.config.fingerprintKey, `card:${number}`),
        masked: maskPan(number),
        bin: number.slice(0, 6),
        country,
        expiry: `${expiry_year}-${String(expiry_month).padStart(2, '0')}`,
        protected_jwe: await this.encrypter.encrypt(JSON.stringify(payer.card)),
      };
    }
    const { number, country } = payer.account;
    return {
      type: 'account',
      fingerprint: fingerprint(this.config.fingerprintKey, `account:${number}`),
      masked: maskAccount(number),
      country,
      protected_jwe: await this.encrypter.encrypt(JSON.stringify(payer.account)),
    };
  }
}
