// What an upstream's developer needs: sign a payment with its private key and submit it, and query its status
// with a request signed the same way. Used by the CLI, the demo stream and the end-to-end tests.
import { randomUUID } from 'node:crypto';
import { JwsSigner, PayrailKeyStore } from '@payrail/crypto';
import { PaymentSubmission, SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';

export interface SubmitResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export class UpstreamClient {
  private constructor(
    readonly upstreamId: string,
    /** Payments: typ payrail-payment+jws. */
    private readonly signer: JwsSigner,
    /** Read requests: typ payrail-request+jws (a token of one kind is never accepted as the other). */
    private readonly requestSigner: JwsSigner,
    private readonly ingestUrl: string,
  ) {}

  static async open(upstreamId: string, privateJwksPath: string, ingestUrl: string): Promise<UpstreamClient> {
    const keys = await PayrailKeyStore.fromFile(privateJwksPath);
    return new UpstreamClient(upstreamId, new JwsSigner(keys, { typ: SIGNED_PAYMENT_JWS_TYPE }), new JwsSigner(keys, { typ: SIGNED_REQUEST_JWS_TYPE }), ingestUrl.replace(/\/$/, ''));
  }

  /** The compact JWS an upstream sends: {jti, iat, payment}. */
  signPayment(payment: PaymentSubmission, opts: { jti?: string; iat?: number } = {}): string {
    return this.signer.sign({ jti: opts.jti ?? randomUUID(), iat: opts.iat ?? Math.floor(Date.now() / 1000), payment });
  }

  /** The same claims as a JSON body and its detached JWS (RFC 7515 Appendix F) for the X-JWS-Signature header. */
  signPaymentDetached(payment: PaymentSubmission, opts: { jti?: string; iat?: number } = {}): { body: string; signature: string } {
    const body = JSON.stringify({ jti: opts.jti ?? randomUUID(), iat: opts.iat ?? Math.floor(Date.now() / 1000), payment });
    return { body, signature: this.signer.signDetached(body) };
  }

  /** POSTs a compact JWS (application/jose). */
  async submit(jws: string, idempotencyKey?: string): Promise<SubmitResponse> {
    return this.post({ 'content-type': 'application/jose' }, jws, idempotencyKey);
  }

  /** POSTs a JSON body with its detached JWS in X-JWS-Signature. */
  async submitDetached(signed: { body: string; signature: string }, idempotencyKey?: string): Promise<SubmitResponse> {
    return this.post({ 'content-type': 'application/json', 'x-jws-signature': signed.signature }, signed.body, idempotencyKey);
  }

  private async post(headers: Record<string, string>, body: string, idempotencyKey: string | undefined): Promise<SubmitResponse> {
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(`${this.ingestUrl}/v1/payments`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  }

  /** The token of `Authorization: Payrail-JWS <token>` for one request: {htm, htu, iat}, typ payrail-request+jws. */
  signRequest(method: string, path: string): string {
    return this.requestSigner.sign({ htm: method, htu: path, iat: Math.floor(Date.now() / 1000) });
  }

  async status(paymentId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const path = `/v1/payments/${paymentId}`;
    const token = this.signRequest('GET', path);
    const res = await fetch(`${this.ingestUrl}${path}`, { headers: { authorization: `Payrail-JWS ${token}` }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}
