// Screening one signed payment instruction: verify Payrail's signature (keys from the JWKS, never from the
// token), evaluate the rule set, record the decision once (Redis SET NX: a redelivered or duplicate signed
// instruction gets the decision already taken), publish it keyed by merchant for settlement.
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { PaymentInstruction, PaymentInstructionSchema, PaymentScreened, PaymentSigned, TOPICS } from '@payrail/contracts';
import { CryptoError } from '@payrail/crypto';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { PayrailSignatures } from './payrail-signatures.provider';
import { RuleSetProvider } from '../rules/ruleset.provider';
import { evaluate } from '../rules/ruleset';

export type ScreenPaymentResult =
  | { kind: 'DECIDED'; decision: PaymentScreened['decision']; paymentId: string }
  | { kind: 'DUPLICATE'; paymentId: string }
  | { kind: 'SIGNATURE_INVALID'; paymentId: string };

const decisionKey = (paymentId: string) => `fraud:decision:{${paymentId}}`;
const DECISION_TTL_S = 30 * 86_400;

@Injectable()
export class ScreenPaymentUseCase {
  constructor(
    private readonly signatures: PayrailSignatures,
    private readonly rules: RuleSetProvider,
    private readonly runtime: MessagingRuntime,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('screening');
  }

  async execute(signed: PaymentSigned, trace: { traceparent?: string }): Promise<ScreenPaymentResult> {
    const redis = this.runtime.redis;
    const previous = await redis.get(decisionKey(signed.payment_id));
    if (previous) {
      await this.publish(JSON.parse(previous) as PaymentScreened, trace);
      return { kind: 'DUPLICATE', paymentId: signed.payment_id };
    }

    let instruction: PaymentInstruction | undefined;
    let signatureValid = true;
    try {
      const verified = await this.signatures.verifier().verify(signed.instruction_jws);
      instruction = PaymentInstructionSchema.parse(verified.payload);
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      signatureValid = false;
    }

    let screened: PaymentScreened;
    const now = new Date().toISOString();
    if (!signatureValid || !instruction || instruction.payment_id !== signed.payment_id) {
      const claimed = unverifiedInstruction(signed.instruction_jws);
      screened = {
        payment_id: signed.payment_id,
        merchant_id: claimed?.payee.merchant_id ?? 'unknown',
        amount: claimed?.amount ?? { minor: '0', currency: 'EUR' },
        decision: 'DECLINE',
        score: 1000,
        reasons: [{ rule: 'signature_invalid', score: 1000, observed: { kid: signed.kid } }],
        ruleset_version: this.rules.current().version,
        screened_at: now,
        instruction_jws: signed.instruction_jws,
      };
      await this.runtime.producer.publish(
        TOPICS.securityAlerts,
        { alert: 'signature_invalid', service: 'fraud-check', payment_id: signed.payment_id, kid: signed.kid, detail: 'Payrail signature on a payment instruction did not verify', raised_at: now },
        { key: signed.payment_id, correlationId: signed.payment_id, eventId: `${signed.payment_id}:alert:signature` },
      );
      this.logger.error({ payment_id: signed.payment_id, kid: signed.kid }, 'payment instruction signature invalid: declined and alerted');
    } else {
      const verdict = evaluate(this.rules.current(), instruction);
      screened = {
        payment_id: instruction.payment_id,
        merchant_id: instruction.payee.merchant_id,
        amount: instruction.amount,
        decision: verdict.decision,
        score: verdict.score,
        reasons: verdict.reasons,
        ruleset_version: verdict.rulesetVersion,
        screened_at: now,
        instruction_jws: signed.instruction_jws,
      };
    }

    // first decision wins, also across two instances racing on a redelivered message
    const stored = await redis.set(decisionKey(signed.payment_id), JSON.stringify(screened), 'EX', DECISION_TTL_S, 'NX');
    if (stored !== 'OK') {
      const winner = await redis.get(decisionKey(signed.payment_id));
      if (winner) screened = JSON.parse(winner) as PaymentScreened;
    }
    await this.publish(screened, trace);
    return signatureValid ? { kind: 'DECIDED', decision: screened.decision, paymentId: screened.payment_id } : { kind: 'SIGNATURE_INVALID', paymentId: signed.payment_id };
  }

  private publish(screened: PaymentScreened, trace: { traceparent?: string }): Promise<void> {
    return this.runtime.producer.publish(TOPICS.paymentsScreened, screened, {
      key: screened.merchant_id,
      correlationId: screened.payment_id,
      eventId: `${screened.payment_id}:screened:${screened.review ? 'review' : 'auto'}`,
      subject: screened.payment_id,
      traceparent: trace.traceparent,
    });
  }
}

/** Only to route and record a payment whose signature failed; never trusted for a decision. */
function unverifiedInstruction(jws: string): PaymentInstruction | undefined {
  try {
    const payload = jws.split('.')[1] ?? '';
    const parsed = PaymentInstructionSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
