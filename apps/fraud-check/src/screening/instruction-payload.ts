import { PaymentInstruction, PaymentInstructionSchema } from '@payrail/contracts';

/**
 * The payment instruction inside a compact JWS, read WITHOUT checking the signature. Only for routing and recording
 * a payment whose signature failed, for re-reading an instruction whose signature was verified when its stored
 * decision was taken, and for offline analysis (backtests). Never to decide.
 */
export function decodeInstructionPayload(jws: string): PaymentInstruction | undefined {
  try {
    const payload = jws.split('.')[1] ?? '';
    const parsed = PaymentInstructionSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
