// Reads (GET) are authenticated like submissions: the upstream signs {htm, htu, iat} with a registered key and
// sends it as `Authorization: Payrail-JWS <compact JWS>` with typ payrail-request+jws in the protected header
// (required: a payment token is not a read token). A token is bound to one method and path, and is fresh for 60 s.
// (Reads are safe to repeat, so no jti is required here.)
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';
import { CryptoError } from '@payrail/crypto';
import { UpstreamRegistry, typRefusal } from './upstream-registry';

const RequestClaimsSchema = z.object({ htm: z.string(), htu: z.string(), iat: z.number().int() });

/** The upstream, or why not: `detail` words the 401 (the typ is named; other failures stay generic). */
export type RequestAuthentication = { ok: true; upstreamId: string } | { ok: false; detail: string };

const NOT_ACCEPTABLE: RequestAuthentication = { ok: false, detail: 'missing or not acceptable' };

@Injectable()
export class RequestAuthenticator {
  constructor(private readonly upstreams: UpstreamRegistry) {}

  /** The upstream id, or a refusal when the header is missing, invalid, untyped, stale or for another request. */
  async authenticate(authorization: string | undefined, method: string, path: string): Promise<RequestAuthentication> {
    const match = /^Payrail-JWS ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) return NOT_ACCEPTABLE;
    const upstream = this.upstreams.forToken(token);
    if (!upstream) return NOT_ACCEPTABLE;
    try {
      const verified = await upstream.requests.verify(token);
      const claims = RequestClaimsSchema.safeParse(verified.payload);
      if (!claims.success || claims.data.htm !== method || claims.data.htu !== path) return NOT_ACCEPTABLE;
      return { ok: true, upstreamId: upstream.id };
    } catch (err) {
      if (err instanceof CryptoError) return err.reason === 'typ' ? { ok: false, detail: typRefusal(token, SIGNED_REQUEST_JWS_TYPE) } : NOT_ACCEPTABLE;
      throw err;
    }
  }
}
