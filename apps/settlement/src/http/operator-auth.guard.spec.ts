import type { ExecutionContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DOMAIN_METRIC_NAMES, OperatorAccessMetrics, seriesValue } from '@payrail/messaging';
import { ClientThrottle, ProblemException } from '@payrail/platform';
import { ApiClientDirectory, ApiClientsFileSchema, newApiClientToken } from './api-clients';
import { OperatorAuthGuard } from './operator-auth.guard';

const consoleClient = newApiClientToken('console', ['ledger:read']);
const operatorClient = newApiClientToken('ops.alice', ['ledger:read']);
const registry = new Registry();
const access = new OperatorAccessMetrics(registry);
const guard = new OperatorAuthGuard({ apiClients: [consoleClient.client, operatorClient.client] }, access, new ClientThrottle({ failures: { perSecond: 1, burst: 1_000 } }, access));
const contextWith = (authorization?: string, ip = '192.0.2.10') => ({ switchToHttp: () => ({ getRequest: () => ({ ip, headers: authorization === undefined ? {} : { authorization } }) }) }) as unknown as ExecutionContext;

function refusal(authorization?: string, on: OperatorAuthGuard = guard, ip?: string): ProblemException {
  try {
    on.canActivate(contextWith(authorization, ip));
  } catch (err) {
    if (err instanceof ProblemException) return err;
    throw err;
  }
  throw new Error('was let in');
}

describe('operators API authentication', () => {
  it("lets in each client's own token, and only the SHA-256 is configured", () => {
    expect(consoleClient.token).toMatch(/^pso_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(consoleClient.client)).not.toContain(consoleClient.token.slice(4));
    expect(guard.canActivate(contextWith(`Bearer ${consoleClient.token}`))).toBe(true);
    expect(guard.canActivate(contextWith(`bearer ${operatorClient.token}`))).toBe(true);
  });

  it('refuses anonymous, wrong, prefixed and non-Bearer credentials with 401 problem details naming the header, counted in metrics', async () => {
    const TOKEN = consoleClient.token;
    const bad = [undefined, '', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`, `Bearer ${consoleClient.client.token_sha256}`];
    for (const authorization of bad) {
      const problem = refusal(authorization);
      expect(problem.status).toBe(401);
      expect(problem.headers['www-authenticate']).toContain('Bearer');
      expect(problem.extra.errors?.[0]?.pointer).toBe('#/headers/authorization');
      expect(problem.detail).not.toContain(TOKEN);
    }
    expect(seriesValue(await registry.metrics(), DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'settlement_api', reason: 'unauthenticated' })).toBe(bad.length);
  });

  it('throttles an address after its failed-authentication burst before comparing any token, even a valid one; other addresses go on', async () => {
    const own = new Registry();
    const metrics = new OperatorAccessMetrics(own);
    // no refill to speak of (one token back an hour): exactly the burst is compared, however slow the machine
    const throttled = new OperatorAuthGuard({ apiClients: [consoleClient.client] }, metrics, new ClientThrottle({ failures: { perSecond: 1 / 3600, burst: 3 } }, metrics));
    const compared = jest.spyOn(ApiClientDirectory.prototype, 'authenticate');
    const statuses = Array.from({ length: 5 }, () => refusal('Bearer pso_guess', throttled, '203.0.113.66').status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const valid = refusal(`Bearer ${consoleClient.token}`, throttled, '203.0.113.66');
    expect(compared).toHaveBeenCalledTimes(3);
    compared.mockRestore();
    expect(valid).toMatchObject({ status: 429, problemType: 'rate-limited', headers: { 'retry-after': expect.stringMatching(/^[0-9]+$/) } });
    expect(Number(valid.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(throttled.canActivate(contextWith(`Bearer ${consoleClient.token}`, '198.51.100.20'))).toBe(true);
    const text = await own.metrics();
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'settlement_api', reason: 'unauthenticated' })).toBe(3);
    expect(seriesValue(text, DOMAIN_METRIC_NAMES.operatorAccessRefused, { surface: 'settlement_api', reason: 'throttled' })).toBe(3);
  });

  it('refuses a clients file with duplicate ids, shared tokens, plaintext tokens or unknown scopes', () => {
    const issues = (clients: unknown[]) => ApiClientsFileSchema.safeParse({ clients }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues([consoleClient.client, { ...operatorClient.client, id: 'console' }])).toEqual(['clients.1.id: duplicate client id console']);
    expect(issues([consoleClient.client, { ...operatorClient.client, token_sha256: consoleClient.client.token_sha256 }])).toEqual(['clients.1.token_sha256: two clients share a token']);
    expect(issues([{ ...consoleClient.client, token_sha256: consoleClient.token }])?.[0]).toMatch(/^clients\.0\.token_sha256: must be the hex SHA-256/);
    expect(issues([{ ...consoleClient.client, scopes: ['ledger:write'] }])?.[0]).toMatch(/^clients\.0\.scopes\.0/);
    expect(issues([])).toEqual(['clients: needs at least one client']);
  });
});
