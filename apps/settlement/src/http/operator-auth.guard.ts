import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { OperatorAccessMetrics, OperatorSurface } from '@payrail/messaging';
import { ClientThrottle, ProblemException } from '@payrail/platform';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { ApiClientDirectory, ApiScope } from './api-clients';

/** The OpenAPI description of the throttle's answer, on every controller behind this guard. */
export const THROTTLED_API_RESPONSE = {
  status: 429,
  description: 'too many failed authentications from this client address (rate-limited; CLIENT_AUTH_FAILURE_LIMIT_PER_S / _BURST): refused before any token is compared; Retry-After says when to retry',
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } },
};

/** The scope every route of the operators API needs (they all read). */
const ROUTE_SCOPE: ApiScope = 'ledger:read';

/**
 * The operators API takes `Authorization: Bearer <token>` of a client in SETTLEMENT_API_CLIENTS_FILE whose scopes
 * include the route's, and nothing else; there is no anonymous access. A call without a valid token is counted in
 * payrail_operator_access_refused_total{surface="settlement_api"}; the token never reaches a log. Before any token is
 * compared, the client address (socket; the X-Forwarded-For of a TRUSTED_PROXIES proxy only) must be within its
 * failed-authentication budget (CLIENT_AUTH_FAILURE_LIMIT_PER_S / _BURST): over it, 429 with Retry-After, counted
 * with reason="throttled".
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly clients: ApiClientDirectory;

  constructor(
    @Inject(SETTLEMENT_CONFIG) config: Pick<SettlementConfig, 'apiClients'>,
    private readonly access: OperatorAccessMetrics,
    private readonly throttle: ClientThrottle<OperatorSurface>,
  ) {
    this.clients = new ApiClientDirectory(config.apiClients);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.throttle.admitOrThrow(request.ip, 'settlement_api');
    const header = request.headers.authorization;
    const client = this.clients.authenticate(typeof header === 'string' ? header : undefined);
    if (!client) {
      this.throttle.failedAuthentication(request.ip);
      this.access.refusedAccess('settlement_api', 'unauthenticated');
      const bearer = typeof header === 'string' && /^Bearer \S+$/i.test(header.trim());
      throw new ProblemException(
        401,
        'unauthenticated',
        'Authentication required',
        bearer ? 'the bearer token is not valid for the settlement operators API' : 'send Authorization: Bearer <API client token>',
        { errors: [{ pointer: '#/headers/authorization', detail: bearer ? 'unknown token' : 'missing or not a Bearer token' }] },
        { 'www-authenticate': 'Bearer realm="payrail-settlement"' },
      );
    }
    if (!client.scopes.has(ROUTE_SCOPE)) {
      throw new ProblemException(403, 'forbidden', 'Not allowed', `this route needs the ${ROUTE_SCOPE} scope; client ${client.id} does not have it`, { required_scope: ROUTE_SCOPE });
    }
    return true;
  }
}
