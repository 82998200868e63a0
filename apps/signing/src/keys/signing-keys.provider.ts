import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { SigningKeyMetrics } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SigningKeyRing } from './signing-key-ring';

/**
 * Hands the key ring (opened and checked before Nest started) the service's logger and rotation metrics (events per
 * reload, keys per state on /metrics), and closes it on shutdown.
 */
@Injectable()
export class SigningKeysLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly logger: PinoLogger,
    runtime: MessagingRuntime,
  ) {
    this.logger.setContext('signing-keys');
    const metrics = new SigningKeyMetrics(runtime.metrics.registry, () => this.keys.keyStates());
    this.keys.onReload((before, after) => metrics.reloaded(before, after));
  }

  onModuleInit(): void {
    this.keys.useLogger({
      info: (o, m) => this.logger.info(o, m),
      warn: (o, m) => this.logger.warn(o, m),
      error: (o, m) => this.logger.error(o, m),
    });
    if (this.keys.generatedDevKeys) {
      this.logger.warn({ file: this.keys.keysFile }, 'generated development signing keys: never use them in production');
    }
    const active = this.keys.activeKey();
    this.logger.info({ file: this.keys.keysFile, active_kid: active.kid, alg: active.alg, published: this.keys.publishedJwks().kids }, 'signing keys loaded');
  }

  onApplicationShutdown(): void {
    this.keys.close();
  }
}
