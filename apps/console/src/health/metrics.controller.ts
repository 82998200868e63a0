import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConsoleRuntime } from '../console.runtime';

/** Prometheus scrape endpoint: refused sign-ins and actions (payrail_operator_access_refused_total), the audit producer, the process. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly runtime: ConsoleRuntime) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('Content-Type', this.runtime.metrics.contentType);
    return this.runtime.metrics.exposition();
  }
}
