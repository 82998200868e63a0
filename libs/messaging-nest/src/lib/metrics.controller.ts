import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** What a Prometheus scrape reads: a registry's text exposition and its content type. */
export interface MetricsExposition {
  readonly contentType: string;
  exposition(): Promise<string>;
}

/** The metrics the scrape endpoint serves: MessagingModule provides the service's own; an app without it provides its registry. */
export const METRICS_EXPOSITION = Symbol('METRICS_EXPOSITION');

/** Prometheus scrape endpoint: the process's metrics (messaging, domain, process), whatever METRICS_EXPOSITION holds. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_EXPOSITION) private readonly metrics: MetricsExposition) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('Content-Type', this.metrics.contentType);
    return this.metrics.exposition();
  }
}
