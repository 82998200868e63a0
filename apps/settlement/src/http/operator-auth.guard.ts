import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '@payrail/platform';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';

/**
 * The operators API takes `Authorization: Bearer <SETTLEMENT_OPERATOR_TOKEN>` and nothing else; there is no
 * anonymous access. Compared as SHA-256 digests in constant time; the token never reaches a log.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(SETTLEMENT_CONFIG) config: SettlementConfig) {
    this.expected = createHash('sha256').update(config.operatorToken).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header.trim()) : null;
    const presented = createHash('sha256').update(match?.[1] ?? '').digest();
    if (match && timingSafeEqual(presented, this.expected)) return true;
    throw new ProblemException(
      401,
      'unauthenticated',
      'Authentication required',
      match ? 'the bearer token is not valid for the settlement operators API' : 'send Authorization: Bearer <operator token>',
      { errors: [{ pointer: '#/headers/authorization', detail: match ? 'unknown token' : 'missing or not a Bearer token' }] },
      { 'www-authenticate': 'Bearer realm="payrail-settlement"' },
    );
  }
}
