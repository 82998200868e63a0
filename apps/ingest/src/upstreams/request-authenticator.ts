// Reads (GET) are authenticated like submissions: the upstream signs {htm, htu, iat} with a registered key and
// sends it as `Authorization: Payrail-JWS <compact JWS>`. A token is bound to one method and path, and is fresh
// for 60 s. (Reads are safe to repeat, so no jti is required here.)
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { CryptoError } from '@payrail/crypto';
import { UpstreamRegistry } from './upstream-registry';

const RequestClaimsSchema = z.object({ htm: z.string(), htu: z.string(), iat: z.number().int() });

@Injectable()
export class RequestAuthenticator {
  constructor(private readonly upstreams: UpstreamRegistry) {}

  /** Returns the upstream id, or undefined when the header is missing, invalid, stale or for another request. */
  async authenticate(authorization: string | undefined, method: string, path: string): Promise<string | undefined> {
    const match = /^Payrail-JWS ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) return undefined;
    const upstream = this.upstreams.forToken(token);
    if (!upstream) return undefined;
    try {
      const verified = await upstream.requests.verify(token);
      const claims = RequestClaimsSchema.safeParse(verified.payload);
      if (!claims.success || claims.data.htm !== method || claims.data.htu !== path) return undefined;
      return upstream.id;
    } catch (err) {
      if (err instanceof CryptoError) return undefined;
      throw err;
    }
  }
}
