import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PayerSubmission, ProtectedPayer } from '@payrail/contracts';
import { EcdhAgreementPool, FieldProtector, JweEncrypter, PayrailKeyStore, maskAccount, maskPan, panPrefix } from '@payrail/crypto';
import { INGEST_CONFIG, IngestConfig } from '../config';

/**
 * Card and account numbers leave ingest only as a JWE to the data-protection key (bound to its field by the `pfld`
 * protected header), a keyed HMAC-SHA256 fingerprint (so fraud-check can count and block without seeing them) and
 * a masked form: @payrail/crypto's FieldProtector does all three. `bin` is only the leading digits the mask shows
 * (never more than half the number with the last 4). The ECDH-ES key agreements of the JWEs are
 * prepared off the event loop (WebCrypto jobs on libuv's thread pool), off the request path.
 */
@Injectable()
export class PayerProtection implements OnModuleInit, OnApplicationShutdown {
  private protector: FieldProtector | undefined;
  private deadLetterEncrypter: JweEncrypter | undefined;
  private readonly agreements = new EcdhAgreementPool();

  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  async onModuleInit(): Promise<void> {
    const encrypter = new JweEncrypter(await PayrailKeyStore.fromFile(this.config.protectionJwksFile), { agreements: this.agreements });
    this.protector = new FieldProtector({ encrypter, fingerprintKey: this.config.fingerprintKey });
    this.deadLetterEncrypter = encrypter;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agreements.close();
  }

  /**
   * A dead letter of the inbound topic (the upstream's JWS, card number readable) as a compact JWE to the
   * data-protection key: whoever holds that key can open it and publish the payment again; nobody else can read it.
   */
  async sealDeadLetter(value: Buffer): Promise<Buffer> {
    if (!this.deadLetterEncrypter) throw new Error('payer protection not initialised');
    // `pdlq` in the protected header: this JWE is a dead letter, not a payer field (FieldProtector binds those by `pfld`)
    return Buffer.from(await this.deadLetterEncrypter.encrypt(value, { extraProtected: { pdlq: 1 } }), 'utf8');
  }

  async protect(payer: PayerSubmission): Promise<ProtectedPayer> {
    if (!this.protector) throw new Error('payer protection not initialised');
    if (payer.type === 'card') {
      const { number, expiry_month, expiry_year, country } = payer.card;
      const { data, fields } = await this.protector.protect(payer, ['card.number']);
      return {
        type: 'card',
        fingerprint: requireInfo(fields['card.number']).fingerprint,
        masked: maskPan(number),
        bin: panPrefix(number),
        country,
        expiry: `${expiry_year}-${String(expiry_month).padStart(2, '0')}`,
        protected_jwe: data.card.number,
      };
    }
    const { number, country } = payer.account;
    const { data, fields } = await this.protector.protect(payer, ['account.number']);
    return {
      type: 'account',
      fingerprint: requireInfo(fields['account.number']).fingerprint,
      masked: maskAccount(number),
      country,
      protected_jwe: data.account.number,
    };
  }
}

function requireInfo<T>(info: T | undefined): T {
  if (info === undefined) throw new Error('FieldProtector skipped a present field');
  return info;
}
