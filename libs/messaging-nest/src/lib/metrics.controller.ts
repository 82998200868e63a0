import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MessagingRuntime } from './messaging.runtime';

/** Prometheus scrape endpoint: the service's messaging metrics (consumed, produced, retries, dead letters, lag) and process metrics. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly runtime: MessagingRuntime) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    reply.header('Content-Type', this.runtime.metrics.contentType);
    return this.runtime.metrics.exposition();
  }
}
