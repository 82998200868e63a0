// Every /api route but sign-in needs a live session (401 otherwise). Requests that change something also need the
// session's CSRF token in X-CSRF-Token and, when the browser sends an Origin, our own origin (403 otherwise): with
// the SameSite=Strict cookie that makes cross-site requests unable to act on an operator's behalf.
import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '@payrail/platform';
import { ConsoleAuth, ConsoleSession } from './console-auth.service';
import { CSRF_HEADER } from './session-tokens';

type WithSession = FastifyRequest & { consoleSession?: ConsoleSession };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly auth: ConsoleAuth) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithSession>();
    const session = await this.auth.resolve(request.headers.cookie);
    if (!session) throw new ProblemException(401, 'unauthenticated', 'Sign-in required', 'sign in to the console first (POST /api/session)');
    if (!SAFE_METHODS.has(request.method)) {
      if (!sameOrigin(request)) throw new ProblemException(403, 'cross-origin', 'Cross-origin request refused', 'actions are accepted from the console page only');
      const token = request.headers[CSRF_HEADER];
      if (!this.auth.csrfValid(session, typeof token === 'string' ? token : undefined)) {
        throw new ProblemException(403, 'csrf', 'Missing or wrong CSRF token', `send the session's CSRF token (GET /api/session) in ${CSRF_HEADER}`, { errors: [{ pointer: `#/headers/${CSRF_HEADER}`, detail: 'missing or wrong' }] });
      }
    }
    request.consoleSession = session;
    return true;
  }
}

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The session the guard resolved. */
export const CurrentSession = createParamDecorator((_: unknown, context: ExecutionContext): ConsoleSession => {
  const session = context.switchToHttp().getRequest<WithSession>().consoleSession;
  if (!session) throw new ProblemException(401, 'unauthenticated', 'Sign-in required', 'sign in to the console first');
  return session;
});
