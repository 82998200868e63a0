import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SIGNING_CONFIG, SigningConfig } from '../config';
import { SigningKeyRing } from './signing-key-ring';

/**
 * Payrail's public signing keys (active and verify-only) for every service and partner that verifies our
 * signatures. Cacheable for JWKS_MAX_AGE_S, with an ETag so a cache or client revalidates with a 304.
 */
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: SigningKeyRing,
    @Inject(SIGNING_CONFIG) private readonly config: SigningConfig,
  ) {}

  @Get('jwks.json')
  jwks(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const { body, etag } = this.keys.publishedJwks();
    void reply.header('cache-control', `public, max-age=${this.config.jwksMaxAgeS}, must-revalidate`).header('etag', etag);
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      void reply.status(304).send();
      return;
    }
    void reply.status(200).header('content-type', 'application/jwk-set+json').send(body);
  }
}

/** RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags, compared weakly. */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
}
