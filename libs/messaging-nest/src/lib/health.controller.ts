import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MessagingRuntime } from './messaging.runtime';

/**
 * Liveness: the process is not wedged (no consumer crashed for good). Readiness: Kafka consumers are running and
 * assigned, the producer is connected and Redis answers; Kubernetes stops routing to a pod that is not ready.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: MessagingRuntime) {}

  @Get('live')
  @HttpCode(HttpStatus.OK)
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const health = await this.runtime.health();
    if (!health.live) reply.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: health.live ? 'up' : 'down', ...health.detail };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const health = await this.runtime.health();
    if (!health.ready) reply.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: health.ready ? 'up' : 'down', ...health.detail };
  }
}
