import { Injectable } from '@nestjs/common';
import { SettlementBatchReport, SignedSettlementBatch, TOPICS } from '@payrail/contracts';
import { refuseForgedEvent } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { HandOffSeals } from '../seals/hand-off-seals';

export type SignReportResult = { status: 'SIGNED'; batchId: string; kid: string };

/**
 * Signs a report only when it is settlement's own: settlement's seal over this exact report (made from its record of
 * the batch) must verify with settlement's public sealing keys; otherwise the event is dead-lettered with a security
 * alert and nothing is signed. Then it signs the closed settlement batch report (without the seal) (canonical JSON, JWS type `payrail-settlement-batch+jws`) for merchants'
 * and treasury's systems. The batch id is deterministic, so a redelivered report is published again under the same
 * event id (`<batch_id>:signed`) with the same content.
 */
@Injectable()
export class SignReportUseCase {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly seals: HandOffSeals,
    private readonly runtime: MessagingRuntime,
  ) {}

  async execute(sealed: SettlementBatchReport, trace: { traceparent?: string } = {}): Promise<SignReportResult> {
    const check = await this.seals.checkReport(sealed);
    if (!check.ok) {
      return refuseForgedEvent(this.runtime.producer, { service: 'signing', topic: TOPICS.settlementBatchReports.name, subject: sealed.batch_id, reason: check.reason, kid: check.kid });
    }
    const { seal: _seal, ...report } = sealed;
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
