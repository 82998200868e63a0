import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SIGNING_CONFIG, SigningConfig } from '../config';
import { SigningKeys } from './signing-keys.provider';

/** Payrail's public keys (active and verify-only) for every service and partner that verifies our signatures. */
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: SigningKeys,
    @Inject(SIGNING_CONFIG) private readonly config: SigningConfig,
  ) {}

  @Get('jwks.json')
  @Header('content-type', 'application/jwk-set+json')
  jwks(@Res({ passthrough: true }) reply: FastifyReply): { keys: Array<Record<string, unknown>> } {
    void reply.header('cache-control', `public, max-age=${this.config.jwksMaxAgeS}, must-revalidate`);
    return this.keys.publicJwks();
  }
}
