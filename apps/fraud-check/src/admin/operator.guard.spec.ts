import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { Registry } from 'prom-client';
import { DOMAIN_METRIC_NAMES, OperatorAccessMetrics, seriesValue } from '@payrail/messaging';
import { ClientThrottle, ProblemException } from '@payrail/platform';
import type { RedisAuditLog } from '../audit/audit-log';
import { OperatorGuard } from './operator.guard';
import { OperatorDirectory, newOperatorToken } from './operators';

const analyst = newOperatorToken('a.smith', 'read');
const reflector = { get: () => ({ action: 'audit.read', scope: 'audit:read' }) } as unknown as Reflector;
const auditLog = { record: () => Promise.resolve() } as unknown as RedisAuditLog;

function guardWith(failures: { perSecond: number; burst: number }): { guard: OperatorGuard; registry: Registry; directory: OperatorDirectory } {
  const registry = new Registry();
  const access = new OperatorAccessMetrics(registry);
  const directory = new OperatorDirectory([analyst.operator]);
  return { guard: new OperatorGuard(reflector, directory, auditLog, access, new ClientThrottle({ failures }, access)), registry, directory };
}

const call = (authorization: string, ip: string) =>
  ({
    getHandler: () => call,
    switchToHttp: () => ({ getRequest: () => ({ ip, method: 'GET', url: '/admin/v1/audit', headers: { authorization } }) }),
  }) as unknown as ExecutionContext;

async function statusOf(guard: OperatorGuard, authorization: string, ip: string): Promise<number> {
  try {
    return (await guard.canActivate(call(authorization, ip))) ? 200 : 0;
  } catch (err) {
    if (err instanceof ProblemException) return err.status;
    throw err;
  }
}

describe('admin API: failed authentications throttled per client address', () => {
  it('after the burst, answers 429 with Retry-After before comparing any token, even a valid one, while other addresses go on', async () => {
    // one token back an hour: exactly the burst is compared, however slow the machine
    const { guard, registry, directory } = guardWith({ perSecond: 1 / 3600, burst: 4 });
    const compared = jest.spyOn(directory, 'authenticate');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push(await statusOf(guard, 'Bearer pfo_guess', '203.0.113.66'));
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429]);
    expect(compared).toHaveBeenCalledTimes(4);

    let refused: unknown;
    try {
      await guard.canActivate(call(`Bearer ${analyst.token}`, '203.0.113.66'));
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ status: 429, problemType: 'rate-limited', title: 'Rate limit exceeded', detail: expect.stringContaining('failed authentication') });
    expect(Number((refused as ProblemException).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(compared).toHaveBeenCalledTimes(4);

    expect(await statusOf(guard, `Bearer ${analyst.token}`, '198.51.100.20')).toBe(200);
    const text = await registry.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'fraud_admin', reason: 'unauthenticated' })).toBe(4);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'fraud_admin', reason: 'throttled' })).toBe(4);
  });

  it('never spends the failure budget on authenticated calls', async () => {
    const { guard } = guardWith({ perSecond: 1 / 3600, burst: 1 });
    for (let i = 0; i < 50; i++) expect(await statusOf(guard, `Bearer ${analyst.token}`, '198.51.100.20')).toBe(200);
    expect(await statusOf(guard, 'Bearer pfo_guess', '198.51.100.20')).toBe(401);
    expect(await statusOf(guard, `Bearer ${analyst.token}`, '198.51.100.20')).toBe(429);
  });
});
