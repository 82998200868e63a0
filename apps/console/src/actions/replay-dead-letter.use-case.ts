// An operator puts a dead letter back on its original topic (after the cause was fixed). Viewers may not; every
// attempt is audited. The replay itself (at most once per dead letter) is the dead-letter library's job.
import { Inject, Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Operator, mayAct } from '../auth/operator-directory';
import { CONSOLE_INTEGRATIONS, ConsoleIntegrations, IntegrationError, ReplayStatus } from '../integrations/ports';

export interface ReplayDeadLetterCommand {
  readonly operator: Operator;
  /** topic/partition/offset in a dead-letter topic. */
  readonly ref: string;
  readonly requestId: string;
}

export type ReplayDeadLetterResult =
  | { kind: 'DONE'; status: ReplayStatus; detail?: string; /** Where the copy is: topic/partition/offset. */ target?: string }
  | { kind: 'FORBIDDEN' | 'UNAVAILABLE' | 'FAILED'; detail: string };

@Injectable()
export class ReplayDeadLetterUseCase {
  constructor(
    private readonly audit: AuditTrail,
    @Inject(CONSOLE_INTEGRATIONS) private readonly integrations: ConsoleIntegrations,
  ) {}

  async execute(command: ReplayDeadLetterCommand): Promise<ReplayDeadLetterResult> {
    const result = await this.replay(command);
    await this.audit.record({
      request_id: command.requestId,
      at: new Date().toISOString(),
      operator: command.operator.username,
      role: command.operator.role,
      action: 'dead-letter.replay',
      target: command.ref,
      outcome: result.kind === 'DONE' ? result.status : result.kind.toLowerCase(),
      detail: result.kind === 'DONE' && result.target ? [`copy at ${result.target}`, result.detail].filter(Boolean).join('; ') : result.detail,
    });
    return result;
  }

  private async replay(command: ReplayDeadLetterCommand): Promise<ReplayDeadLetterResult> {
    if (!mayAct(command.operator.role)) return { kind: 'FORBIDDEN', detail: `${command.operator.role}s cannot replay dead letters` };
    const replay = this.integrations.replay;
    if (!replay) return { kind: 'UNAVAILABLE', detail: 'dead-letter replay is not configured' };
    try {
      const outcome = await replay.replay({ ref: command.ref, operator: command.operator.username, requestId: command.requestId });
      return { kind: 'DONE', ...outcome };
    } catch (err) {
      if (err instanceof IntegrationError) return { kind: 'FAILED', detail: err.message };
      throw err;
    }
  }
}
