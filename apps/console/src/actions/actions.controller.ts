import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { freeText } from '@payrail/contracts';
import { ProblemException } from '@payrail/platform';
import { ConsoleSession } from '../auth/console-auth.service';
import { CurrentSession, SessionGuard } from '../auth/session.guard';
import { ConsoleState } from '../live/console-state.service';
import { parseRequestBody } from '../web/request-body';
import { DecideReviewResult, DecideReviewUseCase } from './decide-review.use-case';
import { ReplayDeadLetterResult, ReplayDeadLetterUseCase } from './replay-dead-letter.use-case';

const DecisionSchema = z.strictObject({ decision: z.enum(['APPROVE', 'DECLINE']), note: freeText(z.string().max(500)).optional() });
const ReplaySchema = z.strictObject({ ref: z.string().regex(/^[A-Za-z0-9._-]+\/(0|[1-9][0-9]*)\/(0|[1-9][0-9]*)$/, 'must be topic/partition/offset') });
const PAYMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const STATUS: Record<Exclude<DecideReviewResult['kind'], 'DECIDED' | 'ALREADY_DECIDED'> | Exclude<ReplayDeadLetterResult['kind'], 'DONE'>, number> = {
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  FAILED: 502,
};

function refused(result: { kind: keyof typeof STATUS; detail: string }): ProblemException {
  const type = result.kind.toLowerCase().replace('_', '-');
  return new ProblemException(STATUS[result.kind], type, result.kind === 'FORBIDDEN' ? 'Not allowed for your role' : `Action ${type.replace('-', ' ')}`, result.detail);
}

/** Operator actions: thin, each one a use case that checks the role and audits. */
@Controller('api')
@UseGuards(SessionGuard)
export class ActionsController {
  constructor(
    private readonly decideReview: DecideReviewUseCase,
    private readonly replayDeadLetter: ReplayDeadLetterUseCase,
    private readonly state: ConsoleState,
  ) {}

  @Post('reviews/:paymentId/decision')
  @HttpCode(200)
  async decide(@CurrentSession() session: ConsoleSession, @Param('paymentId') paymentId: string, @Body() body: unknown): Promise<{ outcome: string }> {
    if (!PAYMENT_ID.test(paymentId)) throw new ProblemException(422, 'invalid-request', 'Invalid request', 'the payment id is not a UUID', { errors: [{ pointer: '#/path/paymentId', detail: 'must be a UUID' }] });
    const { decision, note } = parseRequestBody(DecisionSchema, body);
    const result = await this.decideReview.execute({ operator: session.operator, paymentId, decision, note, requestId: randomUUID() });
    await this.state.actionTaken();
    if (result.kind === 'DECIDED' || result.kind === 'ALREADY_DECIDED') return { outcome: result.kind.toLowerCase() };
    throw refused(result);
  }

  @Post('dead-letters/replay')
  @HttpCode(200)
  async replay(@CurrentSession() session: ConsoleSession, @Body() body: unknown): Promise<{ status: string; detail?: string; target?: string }> {
    const { ref } = parseRequestBody(ReplaySchema, body);
    const result = await this.replayDeadLetter.execute({ operator: session.operator, ref, requestId: randomUUID() });
    await this.state.actionTaken();
    if (result.kind === 'DONE') return { status: result.status, detail: result.detail, target: result.target };
    throw refused(result);
  }
}
