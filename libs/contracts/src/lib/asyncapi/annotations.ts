// Facts the generated docs add to the topic catalogue: which fields are signed documents (compact JWS) and what
// they carry, and where a topic's key comes from when it is not a field of the message value.
import { z } from 'zod';
import { PAYMENT_INSTRUCTION_JWS_TYPE, PaymentInstructionSchema } from '../payments/payment-events';
import { SignedSubmissionClaimsSchema } from '../payments/payment-submission';
import { SETTLEMENT_BATCH_JWS_TYPE, SettlementBatchReportSchema } from '../settlement/settlement-batch';
import { TopicKey } from '../topics/topics';

/** Signed documents carried as compact JWS strings: the schemas of their (decoded) payloads. */
export const JWS_PAYLOAD_SCHEMAS = {
  SignedSubmissionClaims: SignedSubmissionClaimsSchema,
  PaymentInstruction: PaymentInstructionSchema,
  SettlementBatchReport: SettlementBatchReportSchema,
} as const;
export type JwsPayloadName = keyof typeof JWS_PAYLOAD_SCHEMAS;

export interface JwsField {
  readonly field: string;
  readonly payload: JwsPayloadName;
  readonly signer: string;
  /** Set when the field is a compact JWE whose plaintext is the compact JWS (a JWS nested in a JWE): to whom. */
  readonly encryptedTo?: string;
}

export const JWS_FIELDS: Partial<Record<TopicKey, JwsField>> = {
  paymentsInbound: {
    field: 'jwe',
    payload: 'SignedSubmissionClaims',
    signer: "the upstream's key (kid in the JWS header)",
    encryptedTo: "Payrail's ingest inbound key (ECDH-ES+A256KW, A256GCM, cty `payrail-payment+jws`, kid of the key in ingest's GET /.well-known/payrail-inbound-jwks.json)",
  },
  paymentsSigned: { field: 'instruction_jws', payload: 'PaymentInstruction', signer: `Payrail's signing key (ES256; kid and typ \`${PAYMENT_INSTRUCTION_JWS_TYPE}\` in the JWS header)` },
  paymentsScreened: { field: 'instruction_jws', payload: 'PaymentInstruction', signer: "Payrail's signing key (the instruction exactly as signing published it)" },
  settlementBatches: { field: 'report_jws', payload: 'SettlementBatchReport', signer: `Payrail's signing key (ES256; kid and typ \`${SETTLEMENT_BATCH_JWS_TYPE}\` in the JWS header)` },
};

export interface KeyOrigin {
  /** The schema in which the key field is found. */
  readonly schema: z.ZodType;
  readonly note: string;
}

/** Topics whose key field is not in the message value: the producer takes it from the signed document. */
export const KEY_ORIGINS: Partial<Record<TopicKey, KeyOrigin>> = {
  paymentsInbound: { schema: SignedSubmissionClaimsSchema.shape.payment, note: 'not a field of the message value: the upstream_reference of the payment inside the signed, encrypted JWS' },
  paymentsSigned: { schema: PaymentInstructionSchema, note: 'not a field of the message value: payer.fingerprint of the payment instruction, the same key as on the accepted topic' },
};
