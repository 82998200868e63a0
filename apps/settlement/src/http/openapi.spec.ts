// The committed OpenAPI document (docs/openapi/settlement.json) must be what the code generates. To regenerate
// after changing a controller or a response schema: npm run openapi:settlement
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthController, MessagingRuntime } from '@payrail/messaging-nest';
import { AccountsController } from '../accounts/accounts.controller';
import { SettlementQueries } from '../batches/settlement-queries';
import { SettlementsController } from '../batches/settlements.controller';
import { SETTLEMENT_CONFIG } from '../config';
import { InvariantMonitor } from '../invariants/invariant-monitor.service';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OPENAPI_DOCUMENT_PATH, settlementOpenApi } from './openapi';
import { OperatorAccessMetrics } from '@payrail/messaging';
import { ClientThrottle } from '@payrail/platform';

// the app's HTTP surface with its ports faked: generating the document needs routes, not Redis or Kafka
@Module({
  controllers: [SettlementsController, AccountsController, HealthController],
  providers: [
    { provide: SETTLEMENT_CONFIG, useValue: { apiClients: [] } },
    { provide: SettlementQueries, useValue: {} },
    { provide: InvariantMonitor, useValue: {} },
    { provide: MessagingRuntime, useValue: {} },
    { provide: OperatorAccessMetrics, useValue: {} },
    { provide: ClientThrottle, useValue: {} },
    OperatorAuthGuard,
  ],
})
class HttpSurfaceModule {}

describe('settlement OpenAPI document', () => {
  let app: NestFastifyApplication;
  const file = join(__dirname, '..', '..', '..', '..', OPENAPI_DOCUMENT_PATH);

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(HttpSurfaceModule, new FastifyAdapter(), { logger: false });
  });

  afterAll(async () => {
    await app.close();
  });

  it('is generated from the controllers and matches the committed docs/openapi/settlement.json', () => {
    const generated = `${JSON.stringify(settlementOpenApi(app), null, 2)}\n`;
    if (process.env['PAYRAIL_WRITE_OPENAPI'] === '1') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, generated);
    }
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(generated);
  });

  it('documents every operators route with bearer auth and problem+json errors', () => {
    const doc = settlementOpenApi(app) as unknown as { paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> }>> };
    const routes = Object.keys(doc.paths).filter((p) => p.startsWith('/v1/')).sort();
    expect(routes).toEqual(['/v1/accounts', '/v1/accounts/{merchantId}', '/v1/settlements/batches', '/v1/settlements/batches/{batchId}', '/v1/settlements/invariants']);
    for (const route of routes) {
      const get = doc.paths[route]?.['get'];
      expect(get?.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(get?.responses['401']?.content ?? {})).toEqual(['application/problem+json']);
      expect(get?.responses['200']).toBeDefined();
    }
  });
});
