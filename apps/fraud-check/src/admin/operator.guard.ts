// Authentication and authorisation of every admin call: a bearer token of a configured operator (401 otherwise),
// the scope the route needs (403 otherwise). Before any token is compared, the client address (socket; the
// X-Forwarded-For of a TRUSTED_PROXIES proxy only) must be within its failed-authentication budget
// (CLIENT_AUTH_FAILURE_LIMIT_PER_S / _BURST): over it, 429 with Retry-After, counted with reason="throttled". An unauthenticated call is nobody's action: it is counted in
// payrail_operator_access_refused_total{surface="fraud_admin"}, never written into the audit trail (a flood of them
// would push operators' entries out of the capped stream). A known operator's refused call is audited here;
// accepted ones by what they do.
// A caller with the act-for-operators scope (the console) names the person it acts for in X-Payrail-On-Behalf-Of;
// the call is then recorded as "<caller id>:<person>" (audit, blocklist entries, review decisions). From any other
// caller the header is refused (403), so nobody can pass their action off as someone else's.
import { randomUUID } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { OperatorAccessMetrics, OperatorSurface } from '@payrail/messaging';
import { ClientThrottle, ProblemException } from '@payrail/platform';
import { AuditEntry, RedisAuditLog } from '../audit/audit-log';
import { AdminScope, ON_BEHALF_HEADER, ON_BEHALF_SCOPE, Operator, OperatorDirectory, OperatorIdSchema, mayPerform } from './operators';

export interface AdminActionSpec {
  /** Audited name, e.g. "blocklist.add". */
  action: string;
  scope: AdminScope;
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
export const AdminAction = (action: string, scope: AdminScope) => SetMetadata(ADMIN_ACTION, { action, scope } satisfies AdminActionSpec);

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
    private readonly access: OperatorAccessMetrics,
    private readonly throttle: ClientThrottle<OperatorSurface>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.get<AdminActionSpec | undefined>(ADMIN_ACTION, context.getHandler());
    if (!spec) throw new Error(`admin route ${context.getHandler().name} has no @AdminAction`);
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const requestId = randomUUID();
    const at = new Date().toISOString();
    const target = `${request.method} ${request.url.split('?')[0] ?? ''}`;
    this.throttle.admitOrThrow(request.ip, 'fraud_admin');
    const caller = this.operators.authenticate(request.headers.authorization);
    if (!caller) {
      this.throttle.failedAuthentication(request.ip);
      this.access.refusedAccess('fraud_admin', 'unauthenticated');
      throw new ProblemException(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <operator token>', {}, { 'www-authenticate': BEARER_CHALLENGE });
    }
    const refuse = async (detail: string, extra: Record<string, unknown>) => {
      await this.auditLog.record({ request_id: requestId, at, operator: caller.id, role: caller.role, action: spec.action, target, outcome: 'forbidden', detail });
      return new ProblemException(403, 'forbidden', 'Not allowed', detail, extra);
    };
    if (!mayPerform(caller, spec.scope)) throw await refuse(`${spec.action} needs the ${spec.scope} scope; operator ${caller.id} does not have it`, { required_scope: spec.scope });
    const onBehalf = request.headers[ON_BEHALF_HEADER];
    let operator: Operator = caller;
    if (onBehalf !== undefined) {
      if (!mayPerform(caller, ON_BEHALF_SCOPE)) throw await refuse(`${ON_BEHALF_HEADER} needs the ${ON_BEHALF_SCOPE} scope; operator ${caller.id} does not have it`, { required_scope: ON_BEHALF_SCOPE });
      const person = typeof onBehalf === 'string' ? OperatorIdSchema.safeParse(onBehalf) : undefined;
      if (!person?.success) {
        throw new ProblemException(422, 'invalid-request', 'Invalid request', `${ON_BEHALF_HEADER} must name one person`, { errors: [{ pointer: `#/headers/${ON_BEHALF_HEADER}`, detail: 'letters, digits, ".", "_", "@" or "-" (at most 64)' }] });
      }
      operator = { ...caller, id: `${caller.id}:${person.data}` };
    }
    request.adminCall = new AdminCall(requestId, operator, spec.action);
    return true;
  }
}
