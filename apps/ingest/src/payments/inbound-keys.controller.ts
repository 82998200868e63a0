import { Controller, Get, Header } from '@nestjs/common';
import { InboundKeys } from './inbound-keys';

/**
 * INBOUND_JWKS_PATH (contracts): the public half of ingest's active inbound encryption key, on the public port (it is public). Cached briefly: a
 * rotation publishes the new key only once every instance can already decrypt with it.
 */
@Controller('.well-known')
export class InboundKeysController {
  constructor(private readonly keys: InboundKeys) {}

  @Get('payrail-inbound-jwks.json')
  @Header('content-type', 'application/jwk-set+json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: Array<Record<string, unknown>> } {
    return this.keys.publishedJwks();
  }
}
