import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { PayerSubmission, ProtectedPayer } from '@payrail/contracts';
import { FieldProtector, JweEncrypter, PayrailKeyStore, maskAccount, maskPan, panPrefix } from '@payrail/crypto';
import { INGEST_CONFIG, IngestConfig } from '../config';

/**
 * Card and account numbers leave ingest only as a JWE to the data-protection key (bound to its field by the `pfld`
 * protected header), a keyed HMAC-SHA256 fingerprint (so fraud-check can count and block without seeing them) and
 * a masked form: @payrail/crypto's FieldProtector does all three. `bin` is only the leading digits the mask shows
 * (never more than half the number with the last 4). Each JWE's ECDH-ES agreement (a fresh ephemeral key) is
 * computed on the spot: preparing it ahead by WebCrypto on libuv's thread pool (EcdhAgreementPool) kept about as
 * much work on the event loop (CryptoKey objects, promises, the JWK export) and doubled the JWE's CPU in all
 * (measured on the 2-core machine, docs/performance.md "ingest"), where every core is busy with the pipeline.
 */
@Injectable()
export class PayerProtection implements OnModuleInit {
  private protector: FieldProtector | undefined;
  private deadLetterEncrypter: JweEncrypter | undefined;

  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  async onModuleInit(): Promise<void> {
    const encrypter = new JweEncrypter(await PayrailKeyStore.fromFile(this.config.protectionJwksFile));
    this.protector = new FieldProtector({ encrypter, fingerprintKey: this.config.fingerprintKey });
    this.deadLetterEncrypter = encrypter;
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
