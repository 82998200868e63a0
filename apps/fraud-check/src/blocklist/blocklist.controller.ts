// Admin HTTP API for blocklists. Values travel in request bodies, never in URLs: a card number pasted by
// mistake is refused by validation and never reaches a URL that request logs would keep.
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@payrail/platform';
import { Admin, AdminAction, AdminCall, OperatorGuard } from '../admin/operator.guard';
import { BlocklistEntryBody, BlocklistPageQuery, BlocklistParams } from '../admin/admin-api.schemas';
import { parseRequestPart } from '../admin/request-validation';
import { BLOCKLIST_VALUE_SCHEMAS, BlocklistEntry, BlocklistName } from './blocklist';
import { ManageBlocklistUseCase } from './manage-blocklist.use-case';

/** The documented body, with the value checked by its list's own rule. */
function entryBody(list: BlocklistName) {
  return BlocklistEntryBody.extend({ value: BLOCKLIST_VALUE_SCHEMAS[list] });
}

@Controller('admin/v1/blocklists')
@UseGuards(OperatorGuard)
export class BlocklistController {
  constructor(private readonly blocklists: ManageBlocklistUseCase) {}

  @Get(':list')
  @AdminAction('blocklist.list', 'blocklist:read')
  async list(@Admin() call: AdminCall, @Param() params: unknown, @Query() query: unknown): Promise<{ list: BlocklistName; entries: BlocklistEntry[]; next_cursor: string | null }> {
    const { list } = parseRequestPart(BlocklistParams, params, 'path');
    const { cursor, limit } = parseRequestPart(BlocklistPageQuery, query, 'query');
    const page = await this.blocklists.list(call, list, cursor, limit);
    return { list, entries: page.entries, next_cursor: page.cursor === '0' ? null : page.cursor };
  }

  /** Adds an entry, or replaces its reason: 201 when created, 200 when it was there. */
  @Post(':list/entries')
  @AdminAction('blocklist.add', 'blocklist:write')
  async add(@Admin() call: AdminCall, @Param() params: unknown, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ list: BlocklistName; outcome: string; entry: BlocklistEntry }> {
    const { list } = parseRequestPart(BlocklistParams, params, 'path');
    const { value, reason } = parseRequestPart(entryBody(list), body, 'body');
    const change = await this.blocklists.add(call, list, value, reason);
    if (change.kind !== 'CREATED' && change.kind !== 'UPDATED') throw new Error(`unexpected ${change.kind}`);
    void reply.status(change.kind === 'CREATED' ? 201 : 200);
    return { list, outcome: change.kind.toLowerCase(), entry: change.entry };
  }

  /** Removes an entry (the value in the body, for the reason above): 200, or 404 when it was not listed. */
  @Post(':list/removals')
  @AdminAction('blocklist.remove', 'blocklist:write')
  @HttpCode(200)
  async remove(@Admin() call: AdminCall, @Param() params: unknown, @Body() body: unknown): Promise<{ list: BlocklistName; outcome: string; value: string }> {
    const { list } = parseRequestPart(BlocklistParams, params, 'path');
    const { value, reason } = parseRequestPart(entryBody(list), body, 'body');
    const change = await this.blocklists.remove(call, list, value, reason);
    if (change.kind === 'NOT_FOUND') throw new ProblemException(404, 'blocklist-entry-not-found', 'Not on the blocklist', `the ${list} blocklist has no such entry`);
    return { list, outcome: 'removed', value };
  }
}
