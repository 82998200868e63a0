// Reads (GET) are authenticated like submissions: the upstream signs {htm, htu, iat} with a registered key and
// sends it as `Authorization: Payrail-JWS <compact JWS>`. A token is bound to one method and path, and is fresh
// for 60 s. (Reads are safe to repeat, so no jti is required here.)
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { CryptoError, JwsVerifier } from '@payrail/crypto';
import { UpstreamRegistry } from './upstream-registry';
import { unverifiedKid } from '../payments/submit-payment.use-case';

const RequestClaimsSchema = z.object({ htm: z.string(), htu: z.string(), iat: z.number().int() });

@Injectable()
export class RequestAuthenticator {
  constructor(private readonly upstreams: UpstreamRegistry) {}

  /** Returns the upstream id, or undefined when the header is missing, invalid, stale or for another request. */
  async authenticate(authorization: string | undefined, method: string, path: string): Promise<string | undefined> {
    const match = /^Payrail-JWS ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) return undefined;
    const kid = unverifiedKid(token);
    const upstream = kid ? this.upstreams.byKeyId(kid) : undefined;
    if (!upstream) return undefined;
    try {
      const verified = await new JwsVerifier(upstream.keys, { algorithms: upstream.algorithms, requireIat: true, maxAgeSeconds: 60, clockSkewSeconds: 30 }).verify(token);
      const claims = RequestClaimsSchema.safeParse(verified.payload);
      if (!claims.success || claims.data.htm !== method || claims.data.htu !== path) return undefined;
      return upstream.id;
    } catch (err) {
      if (err instanceof CryptoError) return undefined;
      throw err;
    }
  }
}
