// Recording a signed settlement report (payrail.settlement.batches.v1, from the signing service) on its batch, so
// the API can serve it. The JWS is verified with Payrail's keys and its payload must be exactly the report the
// ledger derives from the closed batch; anything else is dead-lettered and logged, never recorded.
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { SettlementBatchReportSchema, SignedSettlementBatch } from '@payrail/contracts';
import { CryptoError, isTokenVerdict } from '@payrail/crypto';
import { batchReport } from '@payrail/ledger';
import { DependencyUnavailableError, PermanentError } from '@payrail/messaging';
import { Ledger } from '../ledger/ledger.provider';
import { PayrailSignatures } from '../posting/payrail-signatures.provider';

export type RecordSignedBatchResult = { kind: 'RECORDED' | 'DUPLICATE' | 'UNKNOWN_BATCH'; batchId: string };

@Injectable()
export class RecordSignedBatchUseCase {
  constructor(
    private readonly ledger: Ledger,
    private readonly signatures: PayrailSignatures,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('signed-batches');
  }

  async execute(signed: SignedSettlementBatch): Promise<RecordSignedBatchResult> {
    let payload: unknown;
    try {
      payload = (await this.signatures.verifier().verify(signed.report_jws)).payload;
    } catch (err) {
      if (isTokenVerdict(err)) throw new PermanentError(`signed report of batch ${signed.batch_id}: signature invalid`, 'signature_invalid');
      if (err instanceof CryptoError) throw new DependencyUnavailableError('the signing JWKS', err.message);
      throw err;
    }
    const parsed = SettlementBatchReportSchema.safeParse(payload);
    if (!parsed.success || parsed.data.batch_id !== signed.batch_id || parsed.data.merchant_id !== signed.merchant_id) {
      throw new PermanentError(`signed report of batch ${signed.batch_id}: payload is not that batch's report`, 'mismatch');
    }
    const ledger = this.ledger.repository;
    const batch = await ledger.batch(signed.merchant_id, signed.batch_id);
    if (!batch) {
      // e.g. Redis lost its data: a rebuild restores the batch and records this report from the batches topic
      this.logger.warn({ batch_id: signed.batch_id }, 'signed report for a batch the ledger does not have: not recorded');
      return { kind: 'UNKNOWN_BATCH', batchId: signed.batch_id };
    }
    if (batch.state !== 'closed') throw new PermanentError(`signed report of batch ${signed.batch_id}: the batch is still open`, 'not_closed');
    const ours = batchReport(batch, await ledger.batchPaymentIds(signed.merchant_id, signed.batch_id));
    if (JSON.stringify(ours) !== JSON.stringify(parsed.data)) {
      this.logger.error({ batch_id: signed.batch_id }, 'signed report differs from the ledger\'s batch: not recorded');
      throw new PermanentError(`signed report of batch ${signed.batch_id} differs from the ledger's batch`, 'mismatch');
    }
    const outcome = await ledger.recordSigned(signed.merchant_id, signed.batch_id, signed.kid, signed.report_jws, new Date().toISOString());
    if (outcome === 'NOT_CLOSED' || outcome === 'UNKNOWN') throw new Error(`batch ${signed.batch_id} changed while recording its signed report`);
    return { kind: outcome, batchId: signed.batch_id };
  }
}
