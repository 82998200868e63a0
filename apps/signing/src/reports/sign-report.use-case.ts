import { Injectable } from '@nestjs/common';
import { SettlementBatchReport, SignedSettlementBatch, TOPICS } from '@payrail/contracts';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeyRing } from '../keys/signing-key-ring';

export type SignReportResult = { status: 'SIGNED'; batchId: string; kid: string };

/**
 * Signs a closed settlement batch report (canonical JSON, JWS type `payrail-settlement-batch+jws`) for merchants'
 * and treasury's systems. The batch id is deterministic, so a redelivered report is published again under the same
 * event id (`<batch_id>:signed`) with the same content.
 */
@Injectable()
export class SignReportUseCase {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly runtime: MessagingRuntime,
  ) {}

  async execute(report: SettlementBatchReport, trace: { traceparent?: string } = {}): Promise<SignReportResult> {
    const { jws, kid } = this.keys.sign('settlementBatch', report);
    const signed: SignedSettlementBatch = { batch_id: report.batch_id, merchant_id: report.merchant_id, kid, report_jws: jws };
    await this.runtime.producer.publish(TOPICS.settlementBatches, signed, {
      key: report.merchant_id,
      correlationId: report.batch_id,
      eventId: `${report.batch_id}:signed`,
      subject: report.batch_id,
      traceparent: trace.traceparent,
    });
    return { status: 'SIGNED', batchId: report.batch_id, kid };
  }
}
