import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { Admin, AdminAction, AdminCall, OperatorGuard } from '../admin/operator.guard';
import { AuditQuery } from '../admin/admin-api.schemas';
import { parseRequestPart } from '../admin/request-validation';
import { AuditEntry, RedisAuditLog } from './audit-log';


/** The audit trail, newest first (reading it is audited too). */
@Controller('admin/v1/audit')
@UseGuards(OperatorGuard)
export class AuditController {
  constructor(private readonly auditLog: RedisAuditLog) {}

  @Get()
  @AdminAction('audit.list', 'audit:read')
  async list(@Admin() call: AdminCall, @Query() query: unknown): Promise<{ entries: (AuditEntry & { id: string })[]; next_before: string | null }> {
    const { limit, before } = parseRequestPart(AuditQuery, query, 'query');
    await this.auditLog.record({ ...call.audit('audit'), outcome: 'ok' });
    const rows = await this.auditLog.list(limit, before);
    return { entries: rows.map((r) => ({ id: r.id, ...r.entry })), next_before: rows.length === limit ? (rows[rows.length - 1]?.id ?? null) : null };
  }
}
