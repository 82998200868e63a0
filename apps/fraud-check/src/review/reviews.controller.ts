// Admin HTTP API for the review queue: list pending payments, read one, decide it (APPROVE or DECLINE).
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ProblemException } from '@payrail/platform';
import { Admin, AdminAction, AdminCall, OperatorGuard } from '../admin/operator.guard';
import { ReviewDecisionBody, ReviewPageQuery, ReviewParams, ReviewSummary, ReviewView } from '../admin/admin-api.schemas';
import { parseRequestPart } from '../admin/request-validation';
import { DecideReviewUseCase } from './decide-review.use-case';
import { ReviewQueriesUseCase } from './review-queries.use-case';


@Controller('admin/v1/reviews')
@UseGuards(OperatorGuard)
export class ReviewsController {
  constructor(
    private readonly queries: ReviewQueriesUseCase,
    private readonly decideReview: DecideReviewUseCase,
  ) {}

  @Get()
  @AdminAction('reviews.list', 'reviews:read')
  async pending(@Admin() call: AdminCall, @Query() query: unknown): Promise<{ total: number; offset: number; reviews: ReviewSummary[] }> {
    const { offset, limit } = parseRequestPart(ReviewPageQuery, query, 'query');
    return { offset, ...(await this.queries.pending(call, offset, limit)) };
  }

  @Get(':paymentId')
  @AdminAction('review.read', 'reviews:read')
  async find(@Admin() call: AdminCall, @Param() params: unknown): Promise<ReviewView> {
    const { paymentId } = parseRequestPart(ReviewParams, params, 'path');
    const view = await this.queries.find(call, paymentId);
    if (!view) throw notInReview(paymentId);
    return view;
  }

  @Post(':paymentId/decision')
  @AdminAction('review.decide', 'reviews:decide')
  @HttpCode(200)
  async decide(@Admin() call: AdminCall, @Param() params: unknown, @Body() body: unknown): Promise<Record<string, unknown>> {
    const { paymentId } = parseRequestPart(ReviewParams, params, 'path');
    const { decision, note } = parseRequestPart(ReviewDecisionBody, body, 'body');
    const result = await this.decideReview.execute(call, { paymentId, decision, note });
    switch (result.kind) {
      case 'NOT_FOUND':
        throw notInReview(paymentId);
      case 'CONFLICT':
        throw new ProblemException(409, 'review-already-decided', 'Review already decided', `payment ${paymentId} was already decided ${result.screened.decision} by ${result.screened.review?.analyst ?? 'another analyst'}`, {
          decision: result.screened.decision,
          review: result.screened.review,
        });
      case 'DECIDED':
      case 'ALREADY_DECIDED':
        return { payment_id: paymentId, outcome: result.kind.toLowerCase(), decision: result.screened.decision, review: result.screened.review, screened_at: result.screened.screened_at };
    }
  }
}

function notInReview(paymentId: string): ProblemException {
  return new ProblemException(404, 'review-not-found', 'No such review', `payment ${paymentId} is not (or no longer) in review`);
}
