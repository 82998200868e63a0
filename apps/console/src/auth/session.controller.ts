import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ProblemException } from '@payrail/platform';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { parseRequestBody } from '../web/request-body';
import { ConsoleAuth, ConsoleSession } from './console-auth.service';
import { mayAct } from './operator-directory';
import { ConsoleRuntime } from '../console.runtime';
import { CurrentSession, SessionGuard, crossOriginRefused, fromConsoleOrigin, headersOf } from './session.guard';
import { clearedSessionCookie } from './session-tokens';

const SignInSchema = z.strictObject({
  username: z.string().min(1, 'is required').max(64),
  password: z.string().min(1, 'is required').max(1024),
});

export interface SessionView {
  username: string;
  role: string;
  can_act: boolean;
  csrf_token: string;
}

function sessionView(session: ConsoleSession): SessionView {
  return { username: session.operator.username, role: session.operator.role, can_act: mayAct(session.operator.role), csrf_token: session.csrfToken };
}

/** Sign in (POST), who am I (GET), sign out (DELETE). */
@Controller('api/session')
export class SessionController {
  constructor(
    private readonly auth: ConsoleAuth,
    private readonly runtime: ConsoleRuntime,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  @Post()
  @HttpCode(200)
  async signIn(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<SessionView> {
    if (!fromConsoleOrigin(headersOf(request), this.config.publicOrigin)) {
      this.runtime.access.refusedAccess('console', 'cross_origin');
      throw crossOriginRefused();
    }
    const { username, password } = parseRequestBody(SignInSchema, body);
    // request.ip: the socket's address, or what a TRUSTED_PROXIES proxy reports (never a client's own header)
    const result = await this.auth.signIn(username, password, request.ip);
    switch (result.kind) {
      case 'THROTTLED':
        throw new ProblemException(429, 'sign-in-throttled', 'Too many failed sign-ins', `try again in ${result.retryAfterS} s`, {}, { 'retry-after': String(result.retryAfterS) });
      case 'DENIED':
        throw new ProblemException(401, 'sign-in-denied', 'Sign-in refused', 'unknown username or wrong password');
      case 'SIGNED_IN':
        void reply.header('set-cookie', result.setCookie);
        return sessionView(result.session);
    }
  }

  @Get()
  @UseGuards(SessionGuard)
  whoAmI(@CurrentSession() session: ConsoleSession): SessionView {
    return sessionView(session);
  }

  @Delete()
  @HttpCode(204)
  @UseGuards(SessionGuard)
  async signOut(@CurrentSession() session: ConsoleSession, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.auth.signOut(session);
    void reply.header('set-cookie', clearedSessionCookie(this.config.cookieSecure));
  }
}
