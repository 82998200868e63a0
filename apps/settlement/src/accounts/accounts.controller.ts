import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MerchantIdSchema } from '@payrail/contracts';
import { ProblemException } from '@payrail/platform';
import { LedgerTotals, LedgerTotalsSchema, MerchantAccounts, MerchantAccountsSchema, ProblemSchema, openApiSchema } from '../http/api.schemas';
import { OperatorAuthGuard, THROTTLED_API_RESPONSE } from '../http/operator-auth.guard';
import { parseRequest } from '../http/parse';
import { SettlementQueries } from '../batches/settlement-queries';

const problem = { 'application/problem+json': { schema: openApiSchema(ProblemSchema) } };

/** Ledger balances for operators: per merchant and currency, and ledger-wide per currency. */
@ApiTags('accounts')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'missing or invalid bearer token', content: problem })
@ApiResponse({ ...THROTTLED_API_RESPONSE, content: problem })
@UseGuards(OperatorAuthGuard)
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly queries: SettlementQueries) {}

  @Get()
  @ApiOperation({ summary: 'Ledger-wide balances per currency and account (each currency sums to 0)' })
  @ApiOkResponse({ description: 'totals over every merchant', schema: openApiSchema(LedgerTotalsSchema) })
  async totals(): Promise<LedgerTotals> {
    return this.queries.ledgerTotals();
  }

  @Get(':merchantId')
  @ApiOperation({ summary: "A merchant's balances: clearing, merchant_payable and fee_revenue per currency" })
  @ApiParam({ name: 'merchantId', example: 'm-001' })
  @ApiOkResponse({ description: "the merchant's accounts", schema: openApiSchema(MerchantAccountsSchema) })
  @ApiResponse({ status: 400, description: 'not a merchant id', content: problem })
  @ApiResponse({ status: 404, description: 'no ledger state for this merchant', content: problem })
  async merchant(@Param('merchantId') merchantId: string): Promise<MerchantAccounts> {
    const id = parseRequest(MerchantIdSchema, merchantId, 'path', 'merchantId');
    const found = await this.queries.merchantAccounts(id);
    if (!found) throw new ProblemException(404, 'merchant-not-found', 'Merchant not found', `no ledger accounts for merchant ${merchantId}`);
    return found;
  }
}
