import { DynamicModule, Logger, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { IngestThrottleMetrics, IngestThrottledRoute } from '@payrail/messaging';
import { MessagingModule, MessagingRuntime } from '@payrail/messaging-nest';
import { signingJwksPlainHttpWarning } from '@payrail/config';
import { ClientThrottle, loggerParams } from '@payrail/platform';
import { INGEST_CONFIG, IngestConfig } from './config';
import { UpstreamRegistry } from './upstreams/upstream-registry';
import { RequestAuthenticator } from './upstreams/request-authenticator';
import { PayerProtection } from './payments/payer-protection';
import { SubmitPaymentUseCase } from './payments/submit-payment.use-case';
import { PaymentsController } from './payments/payments.controller';
import { InboundPaymentsHandler } from './payments/inbound.handler';
import { PaymentStatusHandler } from './status/status.handler';
import { PaymentStatusStore } from './status/payment-status.store';
import { StatusEvidence } from './status/status-evidence';
import { StatusRecovery } from './status/status-recovery.service';
import { AdmissionStore } from './payments/admission.store';
import { ReplayGuardRecovery } from './payments/replay-guard-recovery';
import { jtiTtlSeconds } from './payments/submit-payment.use-case';
import { AcceptedPublisher } from './payments/accepted.publisher';
import { OpsListener } from './ops/ops-listener';
import { InboundKeys } from './payments/inbound-keys';
import { InboundKeysController } from './payments/inbound-keys.controller';
import { INBOUND_DECRYPTION, ReceiveInboundPaymentUseCase } from './payments/inbound-payment.use-case';

/** INGEST_INBOUND_JWE_KEYS_FILE with ingest's loggers; throws ConfigError naming the variable when unusable. */
export function openInboundKeys(config: Pick<IngestConfig, 'inboundJweKeysFile'>): Promise<InboundKeys> {
  const logger = new Logger('inbound-keys');
  return InboundKeys.open(config.inboundJweKeysFile, {
    logger: { debug: (fields, message) => logger.debug({ ...fields, msg: message }) },
    onReloadError: (err) => logger.error({ err: err.message, msg: 'INGEST_INBOUND_JWE_KEYS_FILE: reload refused, the previous keys stay in use' }),
  });
}

@Module({})
export class IngestAppModule {
  /** `inboundKeys`: opened (and checked) by main.ts before the start, else opened here. */
  static forRoot(config: IngestConfig, opts: { inboundKeys?: InboundKeys } = {}): DynamicModule {
    return {
      module: IngestAppModule,
      imports: [
        LoggerModule.forRoot(loggerParams('ingest', config.logLevel)),
        MessagingModule.forRoot({ service: 'ingest', kafka: config.kafka, redis: config.redis, metricsOnHttpPort: false }),
      ],
      controllers: [PaymentsController, InboundPaymentsHandler, PaymentStatusHandler, InboundKeysController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: PaymentStatusStore, useFactory: (runtime: MessagingRuntime) => new PaymentStatusStore(runtime.redis), inject: [MessagingRuntime] },
        { provide: AdmissionStore, useFactory: (runtime: MessagingRuntime) => new AdmissionStore(runtime.redis, config.idempotencyTtlS), inject: [MessagingRuntime] },
        {
          provide: ReplayGuardRecovery,
          useFactory: (runtime: MessagingRuntime) => {
            const logger = new Logger('replay-guard');
            return new ReplayGuardRecovery(runtime.redis, runtime.kafka, { jtiTtlSeconds: jtiTtlSeconds(config), log: (fields, message) => logger.warn({ ...fields, msg: message }) });
          },
          inject: [MessagingRuntime],
        },
        { provide: ClientThrottle, useFactory: (runtime: MessagingRuntime) => new ClientThrottle<IngestThrottledRoute>(config.clientThrottle, new IngestThrottleMetrics(runtime.metrics.registry)), inject: [MessagingRuntime] },
        StatusRecovery,
        OpsListener,
        UpstreamRegistry,
        RequestAuthenticator,
        PayerProtection,
        { provide: AcceptedPublisher, useFactory: () => AcceptedPublisher.open(config.eventSealKeysFile) },
        {
          provide: StatusEvidence,
          useFactory: () => {
            // SIGNING_JWKS_ALLOW_HTTP in use: said once, at boot
            const plainHttp = signingJwksPlainHttpWarning(config.payrailKeys);
            if (plainHttp) new Logger('payrail-signatures').warn({ event: 'payrail.jwks.plain_http', origin: plainHttp.origin, variable: plainHttp.variable, msg: plainHttp.message });
            return StatusEvidence.open({ signing: config.payrailKeys, fraudCheckSealJwksFile: config.fraudCheckSealJwksFile, settlementSealJwksFile: config.settlementSealJwksFile });
          },
        },
        SubmitPaymentUseCase,
        {
          // INGEST_INBOUND_JWE_KEYS_FILE, checked here: a missing or unusable file stops the start naming the variable
          provide: InboundKeys,
          useFactory: () => opts.inboundKeys ?? openInboundKeys(config),
        },
        { provide: INBOUND_DECRYPTION, useFactory: (keys: InboundKeys) => keys.decrypter, inject: [InboundKeys] },
        ReceiveInboundPaymentUseCase,
      ],
    };
  }
}
