// ingest's operations listener: GET /metrics (Prometheus), /health/live and /health/ready (Kubernetes probes) and
// the API documentation (/docs, /docs/json) on OPS_HOST:OPS_PORT, apart from the public port upstreams reach.
// Metrics and docs are not served on the public port at all (an upstream has no business reading either).
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { INGEST_CONFIG, IngestConfig } from '../config';
import { buildOpenApiDocument } from '../docs/openapi';
import { DOCS_PAGE } from './docs-page';

export interface OpsResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What the operations listener needs of the service: its health and its metrics. */
export interface OpsSources {
  health(): Promise<{ live: boolean; ready: boolean; detail: Record<string, unknown> }>;
  metrics: { contentType: string; exposition(): Promise<string> };
  openApiJson: string;
}

const json = (status: number, value: unknown): OpsResponse => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value) });

/** The operations routes (GET only); anything else is 404 (or 405 for another method). */
export async function opsResponse(method: string, url: string, sources: OpsSources): Promise<OpsResponse> {
  const path = url.split('?')[0] ?? url;
  const known = ['/metrics', '/health/live', '/health/ready', '/docs', '/docs/json'];
  if (!known.includes(path)) return json(404, { type: 'https://payrail.dev/problems/not-found', title: 'Not found', status: 404, detail: `no route ${path}` });
  if (method !== 'GET' && method !== 'HEAD') return json(405, { type: 'https://payrail.dev/problems/method-not-allowed', title: 'Method not allowed', status: 405, detail: 'GET only' });
  switch (path) {
    case '/metrics':
      return { status: 200, contentType: sources.metrics.contentType, body: await sources.metrics.exposition() };
    case '/docs':
      return { status: 200, contentType: 'text/html; charset=utf-8', body: DOCS_PAGE };
    case '/docs/json':
      return { status: 200, contentType: 'application/json; charset=utf-8', body: sources.openApiJson };
    default: {
      const health = await sources.health();
      const up = path === '/health/live' ? health.live : health.ready;
      return json(up ? 200 : 503, { status: up ? 'up' : 'down', ...health.detail });
    }
  }
}

@Injectable()
export class OpsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | undefined;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly runtime: MessagingRuntime,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('ops-listener');
  }

  async onApplicationBootstrap(): Promise<void> {
    const sources: OpsSources = { health: () => this.runtime.health(), metrics: this.runtime.metrics, openApiJson: JSON.stringify(buildOpenApiDocument()) };
    const server = createServer((req, res) => {
      opsResponse(req.method ?? 'GET', req.url ?? '/', sources)
        .then((r) => {
          res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : r.body);
        })
        .catch((err: Error) => {
          this.logger.error({ err: err.message, path: req.url }, 'operations request failed');
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'https://payrail.dev/problems/internal', title: 'Internal error', status: 500, detail: 'see the logs' }));
        });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.ops.port, this.config.ops.host, () => resolve());
    });
    this.server = server;
    this.logger.info({ host: this.config.ops.host, port: this.port }, 'operations listener (metrics, health, docs) up');
  }

  /** The bound port (OPS_PORT, or the one the system chose for 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.ops.port;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // a scraper's keep-alive connection must not hold the shutdown
    await closed;
  }
}
