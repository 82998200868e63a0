// Posting one approved payment: verify Payrail's signature again (settlement trusts no upstream stage blindly),
// compute the fee, post the double-entry transaction once, and publish `settled`. A redelivery finds the posting
// and re-publishes the same `settled` event (same event id), so a crash between posting and publishing loses
// nothing and posts nothing twice.
import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { PaymentInstructionSchema, PaymentScreened, PaymentSettled, TOPICS } from '@payrail/contracts';
import { CryptoError } from '@payrail/crypto';
import { PermanentError } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { computeFee } from '../ledger/fees';
import { LedgerRepository } from '../ledger/ledger.repository';
import { PayrailSignatures } from './payrail-signatures.provider';

export type PostPaymentResult =
  | { kind: 'POSTED' | 'DUPLICATE'; paymentId: string; batchId: string }
  | { kind: 'NOT_APPROVED'; paymentId: string; decision: string };

@Injectable()
export class PostPaymentUseCase {
  private readonly ledger: LedgerRepository;

  constructor(
    @Inject(SETTLEMENT_CONFIG) private readonly config: SettlementConfig,
    private readonly signatures: PayrailSignatures,
    private readonly runtime: MessagingRuntime,
    private readonly logger: PinoLogger,
  ) {
    this.ledger = new LedgerRepository(runtime.redis);
    this.logger.setContext('posting');
  }

  async execute(screened: PaymentScreened, trace: { traceparent?: string }): Promise<PostPaymentResult> {
    if (screened.decision !== 'APPROVE') return { kind: 'NOT_APPROVED', paymentId: screened.payment_id, decision: screened.decision };
    let instruction;
    try {
      instruction = PaymentInstructionSchema.parse((await this.signatures.verifier().verify(screened.instruction_jws)).payload);
    } catch (err) {
      if (err instanceof CryptoError) {
        await this.runtime.producer.publish(
          TOPICS.securityAlerts,
          { alert: 'signature_invalid', service: 'settlement', payment_id: screened.payment_id, detail: 'approved payment with an invalid Payrail signature was not posted', raised_at: new Date().toISOString() },
          { key: screened.payment_id, correlationId: screened.payment_id, eventId: `${screened.payment_id}:alert:settlement-signature` },
        );
        throw new PermanentError('payment instruction signature invalid: not posted', 'signature_invalid');
      }
      throw err;
    }
    if (instruction.payment_id !== screened.payment_id || instruction.payee.merchant_id !== screened.merchant_id) {
      throw new PermanentError('screened event does not match its signed instruction', 'mismatch');
    }
    const amount = BigInt(instruction.amount.minor);
    const fee = computeFee(amount, this.config.fee.bps, this.config.fee.fixedMinor);
    const postedAt = new Date().toISOString();
    const batchId = batchIdFor(instruction.payee.merchant_id, instruction.amount.currency, Date.parse(screened.screened_at), this.config.batchCutoffS);
    const result = await this.ledger.post({
      paymentId: instruction.payment_id,
      merchantId: instruction.payee.merchant_id,
      currency: instruction.amount.currency,
      amount,
      fee,
      net: amount - fee,
      postedAt,
      batchId,
    });
    // on a duplicate, publish what was posted the first time
    const posting = result === 'DUPLICATE' ? await this.ledger.posting(instruction.payee.merchant_id, instruction.payment_id) : undefined;
    const settled: PaymentSettled = {
      payment_id: instruction.payment_id,
      merchant_id: instruction.payee.merchant_id,
      amount: instruction.amount,
      fee: { minor: posting?.['fee'] ?? fee.toString(), currency: instruction.amount.currency },
      net: { minor: posting?.['net'] ?? (amount - fee).toString(), currency: instruction.amount.currency },
      posted_at: posting?.['posted_at'] ?? postedAt,
      batch_id: posting?.['batch_id'] ?? batchId,
    };
    await this.runtime.producer.publish(TOPICS.paymentsSettled, settled, {
      key: settled.merchant_id,
      correlationId: settled.payment_id,
      eventId: `${settled.payment_id}:settled`,
      subject: settled.payment_id,
      traceparent: trace.traceparent,
    });
    return { kind: result, paymentId: settled.payment_id, batchId: settled.batch_id };
  }
}

/** Deterministic: the same merchant, currency and cutoff window always give the same batch id. */
export function batchIdFor(merchantId: string, currency: string, atMs: number, cutoffS: number): string {
  const windowStart = Math.floor(atMs / 1000 / cutoffS) * cutoffS;
  return `${merchantId}.${currency}.${new Date(windowStart * 1000).toISOString().replace(/[-:]/g, '').replace(/\.000Z$/, 'Z')}`;
}
