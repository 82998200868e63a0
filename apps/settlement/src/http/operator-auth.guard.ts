import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { OperatorAccessMetrics } from '@payrail/messaging';
import { ProblemException } from '@payrail/platform';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { ApiClientDirectory, ApiScope } from './api-clients';

/** The scope every route of the operators API needs (they all read). */
const ROUTE_SCOPE: ApiScope = 'ledger:read';

/**
 * The operators API takes `Authorization: Bearer <token>` of a client in SETTLEMENT_API_CLIENTS_FILE whose scopes
 * include the route's, and nothing else; there is no anonymous access. A call without a valid token is counted in
 * payrail_operator_access_refused_total{surface="settlement_api"}; the token never reaches a log.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly clients: ApiClientDirectory;

  constructor(
    @Inject(SETTLEMENT_CONFIG) config: Pick<SettlementConfig, 'apiClients'>,
    private readonly access: OperatorAccessMetrics,
  ) {
    this.clients = new ApiClientDirectory(config.apiClients);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const client = this.clients.authenticate(typeof header === 'string' ? header : undefined);
    if (!client) {
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
