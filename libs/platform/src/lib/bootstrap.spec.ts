import Fastify from 'fastify';
import { fastifyTrustProxy } from './bootstrap';

/** The client address a service sees for a request from `remoteAddress` claiming X-Forwarded-For `forwarded`. */
async function clientAddress(trustedProxies: readonly string[], remoteAddress: string, forwarded?: string): Promise<string> {
  const app = Fastify({ trustProxy: fastifyTrustProxy(trustedProxies) });
  app.get('/', async (request) => ({ ip: request.ip }));
  const res = await app.inject({ method: 'GET', url: '/', remoteAddress, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} });
  await app.close();
  return (res.json() as { ip: string }).ip;
}

describe('client address (TRUSTED_PROXIES)', () => {
  it('ignores X-Forwarded-For by default: a client cannot pick the address throttles and audits see', async () => {
    expect(fastifyTrustProxy([])).toBe(false);
    await expect(clientAddress([], '203.0.113.9', '10.9.9.9')).resolves.toBe('203.0.113.9');
  });

  it('believes X-Forwarded-For only from a listed proxy (address or CIDR)', async () => {
    await expect(clientAddress(['10.0.0.0/8'], '10.1.2.3', '198.51.100.4')).resolves.toBe('198.51.100.4');
    await expect(clientAddress(['10.0.0.0/8'], '203.0.113.9', '198.51.100.4')).resolves.toBe('203.0.113.9');
    await expect(clientAddress(['192.0.2.7'], '192.0.2.7', '198.51.100.4')).resolves.toBe('198.51.100.4');
  });

  it('takes the address the trusted proxy saw, not one the client prepended', async () => {
    await expect(clientAddress(['10.0.0.0/8'], '10.1.2.3', '6.6.6.6, 198.51.100.4')).resolves.toBe('198.51.100.4');
  });
});
