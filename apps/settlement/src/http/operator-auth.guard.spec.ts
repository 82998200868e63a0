import type { ExecutionContext } from '@nestjs/common';
import { ProblemException } from '@payrail/platform';
import type { SettlementConfig } from '../config';
import { OperatorAuthGuard } from './operator-auth.guard';

const TOKEN = 'operator-token-0123456789abcdef0123456789';
const guard = new OperatorAuthGuard({ operatorToken: TOKEN } as SettlementConfig);
const contextWith = (authorization?: string) => ({ switchToHttp: () => ({ getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }) }) }) as unknown as ExecutionContext;

function refusal(authorization?: string): ProblemException {
  try {
    guard.canActivate(contextWith(authorization));
  } catch (err) {
    if (err instanceof ProblemException) return err;
    throw err;
  }
  throw new Error('was let in');
}

describe('operators API authentication', () => {
  it('lets in exactly the configured bearer token', () => {
    expect(guard.canActivate(contextWith(`Bearer ${TOKEN}`))).toBe(true);
    expect(guard.canActivate(contextWith(`bearer ${TOKEN}`))).toBe(true);
  });

  it('refuses anonymous, wrong, prefixed and non-Bearer credentials with 401 problem details naming the header', () => {
    for (const authorization of [undefined, '', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      const problem = refusal(authorization);
      expect(problem.status).toBe(401);
      expect(problem.headers['www-authenticate']).toContain('Bearer');
      expect(problem.extra.errors?.[0]?.pointer).toBe('#/headers/authorization');
      expect(problem.detail).not.toContain(TOKEN);
    }
  });
});
