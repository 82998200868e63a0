import { Injectable } from '@nestjs/common';
import { SettlementBatchReport, TOPICS } from '@payrail/contracts';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeys } from '../keys/signing-keys.provider';
import { kidOf } from '../instructions/sign-instruction.use-case';

export type SignReportResult = { status: 'SIGNED'; batchId: string; kid: string };

/** Signs a closed settlement batch report; the batch id is deterministic, so redeliveries carry the same id. */
@Injectable()
export class SignReportUseCase {
  constructor(
    private readonly keys: SigningKeys,
    private readonly runtime: MessagingRuntime,
  ) {}

  async execute(report: SettlementBatchReport): Promise<SignReportResult> {
    const jws = this.keys.signer.sign(report);
    const kid = kidOf(jws);
    await this.runtime.producer.publish(
      TOPICS.settlementBatches,
      { batch_id: report.batch_id, merchant_id: report.merchant_id, kid, report_jws: jws },
      { key: report.merchant_id, correlationId: report.batch_id, eventId: `${report.batch_id}:signed`, subject: report.batch_id },
    );
    return { status: 'SIGNED', batchId: report.batch_id, kid };
  }
}
