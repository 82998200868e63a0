import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { SettlementBatchReport, TOPICS } from '@payrail/contracts';
import type { ConsumedEvent } from '@payrail/messaging';
import { SignReportUseCase } from './sign-report.use-case';

@Controller()
export class ReportsHandler {
  constructor(private readonly signReport: SignReportUseCase) {}

  @EventPattern(TOPICS.settlementBatchReports.name)
  async onBatchReport(@Payload() event: ConsumedEvent<SettlementBatchReport>): Promise<void> {
    await this.signReport.execute(event.data, { traceparent: event.envelope.traceparent });
  }
}
