import { Controller, Get, UseGuards } from '@nestjs/common';
import { Admin, AdminAction, AdminCall, OperatorGuard } from '../admin/operator.guard';
import { RedisAuditLog } from '../audit/audit-log';
import { RuleSet } from './ruleset';
import { RuleSetProvider } from './ruleset.provider';

/** The rule set in force on this instance: version, content hash, when it was loaded, the last refused reload, the rules. */
@Controller('admin/v1/rules')
@UseGuards(OperatorGuard)
export class RulesController {
  constructor(
    private readonly rules: RuleSetProvider,
    private readonly auditLog: RedisAuditLog,
  ) {}

  @Get()
  @AdminAction('rules.read', 'rules:read')
  async current(@Admin() call: AdminCall): Promise<{ version: string; sha256: string; loaded_at: string; last_refused_reload: { at: string; reason: string } | null; ruleset: RuleSet }> {
    const loaded = this.rules.loadedRuleSet();
    await this.auditLog.record({ ...call.audit(loaded.ruleset.version), outcome: 'ok' });
    return { version: loaded.ruleset.version, sha256: loaded.sha256, loaded_at: loaded.loadedAt, last_refused_reload: this.rules.lastRefusal() ?? null, ruleset: loaded.ruleset };
  }
}
