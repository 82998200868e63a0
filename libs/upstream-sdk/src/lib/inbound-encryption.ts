// Publishing to the inbound topic: the signed payment (the same compact JWS as for POST /v1/payments) encrypted to
// Payrail's inbound key, a JWS nested in a JWE (ECDH-ES+A256KW, A256GCM, cty payrail-payment+jws, Payrail's kid).
// The key comes from ingest's GET /.well-known/payrail-inbound-jwks.json, or from a file Payrail's operators hand over.
import { readFileSync } from 'node:fs';
import { INBOUND_JWKS_PATH, INBOUND_PAYMENT_JWE_CONTENT_TYPE, InboundPayment } from '@payrail/contracts';
import { JweEncrypter, KEY_WRAP_ALGS, PayrailKeyStore } from '@payrail/crypto';

export class InboundPaymentEncrypter {
  private constructor(private readonly encrypter: JweEncrypter) {}

  /**
   * The first encryption key of Payrail's inbound JWKS (ingest publishes one: the active key). Refuses a JWKS
   * without one, and never takes a private member along.
   */
  static async fromJwks(jwks: unknown): Promise<InboundPaymentEncrypter> {
    const keys = typeof jwks === 'object' && jwks !== null && Array.isArray((jwks as { keys?: unknown }).keys) ? ((jwks as { keys: unknown[] }).keys as Record<string, unknown>[]) : [];
    const key = keys.find((k) => k['use'] === 'enc' && (KEY_WRAP_ALGS as readonly unknown[]).includes(k['alg']));
    if (!key) throw new Error("Payrail's inbound JWKS holds no encryption key (use enc, alg ECDH-ES+A256KW or RSA-OAEP-256)");
    if ('d' in key) throw new Error("Payrail's inbound JWKS must hold public keys only");
    return new InboundPaymentEncrypter(new JweEncrypter(await PayrailKeyStore.fromJwks({ keys: [key] }, { source: "Payrail's inbound JWKS" })));
  }

  static async fromFile(path: string): Promise<InboundPaymentEncrypter> {
    return InboundPaymentEncrypter.fromJwks(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  }

  /** Fetches ingest's published inbound key (public port; cache it for up to its max-age, 5 minutes). */
  static async fetch(ingestUrl: string): Promise<InboundPaymentEncrypter> {
    const res = await fetch(`${ingestUrl.replace(/\/$/, '')}${INBOUND_JWKS_PATH}`, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`GET ${INBOUND_JWKS_PATH}: ${res.status}`);
    return InboundPaymentEncrypter.fromJwks(await res.json());
  }

  /** kid of Payrail's key the JWEs name. */
  get kid(): string {
    return this.encrypter.kid;
  }

  /** The compact JWS as a compact JWE to Payrail's inbound key (cty marks the nested JWS). */
  encrypt(jws: string): Promise<string> {
    return this.encrypter.encrypt(jws, { extraProtected: { cty: INBOUND_PAYMENT_JWE_CONTENT_TYPE } });
  }

  /** The inbound topic's message value for a signed payment. */
  async message(jws: string, idempotencyKey?: string): Promise<InboundPayment> {
    const jwe = await this.encrypt(jws);
    return idempotencyKey === undefined ? { jwe } : { jwe, idempotency_key: idempotencyKey };
  }
}
