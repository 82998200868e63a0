// Every /api route but sign-in needs a live session (401 otherwise). Sign-in and every request that changes
// something must come from the console's own origin (403 otherwise), and the latter also need the session's CSRF
// token in X-CSRF-Token: with the SameSite=Strict cookie, cross-site requests cannot act on an operator's behalf.
import { CanActivate, ExecutionContext, Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '@payrail/platform';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { ConsoleRuntime } from '../console.runtime';
import { ConsoleAuth, ConsoleSession } from './console-auth.service';
import { CSRF_HEADER } from './session-tokens';

type WithSession = FastifyRequest & { consoleSession?: ConsoleSession };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The request headers a same-origin check reads. */
export interface OriginHeaders {
  readonly origin?: string;
  readonly host?: string;
  readonly 'sec-fetch-site'?: string;
}

/**
 * Whether a request comes from the console's own page. Browsers send Sec-Fetch-Site and Origin on every POST and
 * DELETE: a cross-site or same-site (sibling host) fetch, or a foreign Origin (`null` included), is refused. The
 * expected origin is CONSOLE_PUBLIC_URL's when set, else the Host header's. A request with neither header is no
 * browser's (curl, scripts): CSRF needs a browser, so it is let through to the session and CSRF checks.
 */
export function fromConsoleOrigin(headers: OriginHeaders, publicOrigin: string | undefined): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (publicOrigin !== undefined) return origin === publicOrigin;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

export function crossOriginRefused(): ProblemException {
  return new ProblemException(403, 'cross-origin', 'Cross-origin request refused', 'sign-in and actions are accepted from the console page only', {
    errors: [{ pointer: '#/headers/origin', detail: 'not the console origin' }],
  });
}

@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly auth: ConsoleAuth,
    private readonly runtime: ConsoleRuntime,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithSession>();
    const changes = !SAFE_METHODS.has(request.method);
    if (changes && !fromConsoleOrigin(headersOf(request), this.config.publicOrigin)) {
      this.runtime.access.refusedAccess('console', 'cross_origin');
      throw crossOriginRefused();
    }
    const session = await this.auth.resolve(request.headers.cookie);
    if (!session) throw new ProblemException(401, 'unauthenticated', 'Sign-in required', 'sign in to the console first (POST /api/session)');
    if (changes) {
      const token = request.headers[CSRF_HEADER];
      if (!this.auth.csrfValid(session, typeof token === 'string' ? token : undefined)) {
        throw new ProblemException(403, 'csrf', 'Missing or wrong CSRF token', `send the session's CSRF token (GET /api/session) in ${CSRF_HEADER}`, { errors: [{ pointer: `#/headers/${CSRF_HEADER}`, detail: 'missing or wrong' }] });
      }
    }
    request.consoleSession = session;
    return true;
  }
}

export function headersOf(request: FastifyRequest): OriginHeaders {
  const one = (name: string): string | undefined => {
    const v = request.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  return { origin: one('origin'), host: one('host'), 'sec-fetch-site': one('sec-fetch-site') };
}

/** The session the guard resolved. */
export const CurrentSession = createParamDecorator((_: unknown, context: ExecutionContext): ConsoleSession => {
  const session = context.switchToHttp().getRequest<WithSession>().consoleSession;
  if (!session) throw new ProblemException(401, 'unauthenticated', 'Sign-in required', 'sign in to the console first');
  return session;
});
