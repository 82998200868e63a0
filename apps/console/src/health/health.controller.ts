import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConsoleRuntime } from '../console.runtime';

/** Liveness: the observer has not crashed for good. Readiness: it is watching its partitions and Redis answers. */
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: ConsoleRuntime) {}

  @Get('live')
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const health = await this.runtime.health();
    if (!health.live) reply.status(503);
    return { status: health.live ? 'up' : 'down', ...health.detail };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const health = await this.runtime.health();
    if (!health.ready) reply.status(503);
    return { status: health.ready ? 'up' : 'down', ...health.detail };
  }
}
