import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ProblemException } from '@payrail/platform';
import { BatchDetail, BatchDetailSchema, BatchList, BatchListQuerySchema, BatchListSchema, Invariants, InvariantsSchema, ProblemSchema, openApiSchema } from '../http/api.schemas';
import { OperatorAuthGuard, THROTTLED_API_RESPONSE } from '../http/operator-auth.guard';
import { parseRequest } from '../http/parse';
import { InvariantMonitor } from '../invariants/invariant-monitor.service';
import { SettlementQueries } from './settlement-queries';

const problem = { 'application/problem+json': { schema: openApiSchema(ProblemSchema) } };

/** Settlement batches for operators: list a merchant's batches, fetch one with its (signed) report. */
@ApiTags('settlements')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'missing or invalid bearer token', content: problem })
@ApiResponse({ ...THROTTLED_API_RESPONSE, content: problem })
@UseGuards(OperatorAuthGuard)
@Controller('v1/settlements')
export class SettlementsController {
  constructor(
    private readonly queries: SettlementQueries,
    private readonly invariants: InvariantMonitor,
  ) {}

  @Get('batches')
  @ApiOperation({ summary: "List a merchant's settlement batches, newest window first" })
  @ApiQuery({ name: 'merchant_id', required: true, schema: { type: 'string' } })
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'closed', 'reported', 'signed'] })
  @ApiQuery({ name: 'currency', required: false, schema: { type: 'string', pattern: '^[A-Z]{3}$' } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiOkResponse({ description: 'one page of batches', schema: openApiSchema(BatchListSchema) })
  @ApiResponse({ status: 400, description: 'a query parameter is invalid (named in errors[].pointer)', content: problem })
  async list(@Query() query: Record<string, unknown>): Promise<BatchList> {
    return this.queries.listBatches(parseRequest(BatchListQuerySchema, query, 'query'));
  }

  @Get('batches/:batchId')
  @ApiOperation({ summary: 'Fetch one settlement batch: totals, payment ids, its report and the signed report' })
  @ApiParam({ name: 'batchId', example: 'm-001.EUR.20261129T100000Z' })
  @ApiOkResponse({ description: 'the batch', schema: openApiSchema(BatchDetailSchema) })
  @ApiResponse({ status: 404, description: 'no such batch', content: problem })
  async find(@Param('batchId') batchId: string): Promise<BatchDetail> {
    const found = await this.queries.batch(parseRequest(z.string().min(1).max(200), batchId, 'path', 'batchId'));
    if (!found) throw new ProblemException(404, 'batch-not-found', 'Batch not found', `no settlement batch ${batchId}`);
    return found;
  }

  @Get('invariants')
  @ApiOperation({ summary: 'The ledger invariants: the last periodic check, or a check run now when none ran yet' })
  @ApiOkResponse({ description: 'the check and every violation found', schema: openApiSchema(InvariantsSchema) })
  async invariantsCheck(): Promise<Invariants> {
    const result = this.invariants.lastResult ?? (await this.invariants.check());
    if (!result) throw new Error('invariant check produced no result');
    const r = result.report;
    return {
      checked_at: result.checkedAt,
      ok: r.ok,
      merchants: r.merchants,
      batches: r.batches,
      postings: r.postings,
      currency_sums: r.currencySums,
      violations: r.violations.map((v) => ({ invariant: v.invariant, merchant_id: v.merchantId, currency: v.currency, batch_id: v.batchId, payment_id: v.paymentId, detail: v.detail })),
    };
  }
}
