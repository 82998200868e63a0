import { OpsSources, opsResponse } from './ops-listener';

const sources = (live: boolean, ready: boolean): OpsSources => ({
  health: async () => ({ live, ready, detail: { redis: ready ? 'up' : 'down' } }),
  metrics: { contentType: 'text/plain; version=0.0.4', exposition: async () => 'payrail_messages_consumed_total 3\n' },
  openApiJson: '{"openapi":"3.1.0"}',
});

describe('ingest operations listener routes', () => {
  it('serves the Prometheus exposition with its content type', async () => {
    expect(await opsResponse('GET', '/metrics', sources(true, true))).toEqual({ status: 200, contentType: 'text/plain; version=0.0.4', body: 'payrail_messages_consumed_total 3\n' });
  });

  it('answers the probes 200 or 503 from the runtime health', async () => {
    expect((await opsResponse('GET', '/health/live', sources(true, false))).status).toBe(200);
    const notReady = await opsResponse('GET', '/health/ready?verbose=1', sources(true, false));
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({ status: 'down', redis: 'down' });
    expect((await opsResponse('GET', '/health/live', sources(false, false))).status).toBe(503);
  });

  it('serves the docs page and the OpenAPI document', async () => {
    const page = await opsResponse('GET', '/docs', sources(true, true));
    expect(page.contentType).toContain('text/html');
    expect(page.body).toContain('/docs/json');
    expect((await opsResponse('GET', '/docs/json', sources(true, true))).body).toBe('{"openapi":"3.1.0"}');
  });

  it('has nothing else: 404 for other paths (the payments API is not here), 405 for other methods', async () => {
    expect((await opsResponse('GET', '/v1/payments', sources(true, true))).status).toBe(404);
    expect((await opsResponse('POST', '/metrics', sources(true, true))).status).toBe(405);
  });
});
