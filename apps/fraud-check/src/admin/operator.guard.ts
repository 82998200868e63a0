// Authentication and authorisation of every admin call: a bearer token of a configured operator (401 otherwise),
// the role the route needs (403 otherwise). Refused calls are audited here; accepted ones by what they do.
import { randomUUID } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '@payrail/platform';
import { AuditEntry, OperatorRole, RedisAuditLog } from '../audit/audit-log';
import { Operator, OperatorDirectory, mayPerform } from './operators';

export interface AdminActionSpec {
  /** Audited name, e.g. "blocklist.add". */
  action: string;
  role: OperatorRole;
}

/** An authenticated admin call: who, which request, and the audit entry it writes. */
export class AdminCall {
  readonly at = new Date().toISOString();

  constructor(
    readonly requestId: string,
    readonly operator: Operator,
    readonly action: string,
  ) {}

  audit(target: string, detail?: string): Omit<AuditEntry, 'outcome'> {
    return { request_id: this.requestId, at: this.at, operator: this.operator.id, role: this.operator.role, action: this.action, target, detail };
  }
}

const ADMIN_ACTION = 'payrail:admin-action';
export const AdminAction = (action: string, role: OperatorRole) => SetMetadata(ADMIN_ACTION, { action, role } satisfies AdminActionSpec);

type AdminRequest = FastifyRequest & { adminCall?: AdminCall };

export const Admin = createParamDecorator((_: unknown, ctx: ExecutionContext): AdminCall => {
  const call = ctx.switchToHttp().getRequest<AdminRequest>().adminCall;
  if (!call) throw new Error('admin route without OperatorGuard');
  return call;
});

export const BEARER_CHALLENGE = 'Bearer realm="payrail-fraud-admin"';

@Injectable()
export class OperatorGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly operators: OperatorDirectory,
    private readonly auditLog: RedisAuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.get<AdminActionSpec | undefined>(ADMIN_ACTION, context.getHandler());
    if (!spec) throw new Error(`admin route ${context.getHandler().name} has no @AdminAction`);
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const requestId = randomUUID();
    const at = new Date().toISOString();
    const target = `${request.method} ${request.url.split('?')[0] ?? ''}`;
    const operator = this.operators.authenticate(request.headers.authorization);
    if (!operator) {
      await this.auditLog.record({ request_id: requestId, at, operator: 'anonymous', role: 'none', action: spec.action, target, outcome: 'unauthenticated' });
      throw new ProblemException(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <operator token>', {}, { 'www-authenticate': BEARER_CHALLENGE });
    }
    if (!mayPerform(operator, spec.role)) {
      await this.auditLog.record({ request_id: requestId, at, operator: operator.id, role: operator.role, action: spec.action, target, outcome: 'forbidden' });
      throw new ProblemException(403, 'forbidden', 'Not allowed', `${spec.action} needs the ${spec.role} role; operator ${operator.id} has ${operator.role}`, { required_role: spec.role });
    }
    request.adminCall = new AdminCall(requestId, operator, spec.action);
    return true;
  }
}
