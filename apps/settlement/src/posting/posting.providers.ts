// The Nest wiring of the framework-free posting use case: the service's ledger, keys, producer, metrics and logger.
import type { Provider } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { SettlementMetrics } from '@payrail/messaging';
import { MessagingRuntime } from '@payrail/messaging-nest';
import { SETTLEMENT_CONFIG, SettlementConfig } from '../config';
import { Ledger } from '../ledger/ledger.provider';
import { PayrailSignatures } from './payrail-signatures.provider';
import { PostScreenedBatchUseCase } from './post-screened-batch.use-case';
import { SettlementSeals } from './settlement-seals';

export const postScreenedBatchProvider: Provider = {
  provide: PostScreenedBatchUseCase,
  inject: [SETTLEMENT_CONFIG, Ledger, PayrailSignatures, SettlementSeals, MessagingRuntime, SettlementMetrics, PinoLogger],
  useFactory: (config: SettlementConfig, ledger: Ledger, signatures: PayrailSignatures, seals: SettlementSeals, runtime: MessagingRuntime, metrics: SettlementMetrics, logger: PinoLogger) => {
    logger.setContext('posting');
    return new PostScreenedBatchUseCase({
      ledger,
      fees: config.fee,
      policy: config.batch,
      checkDecision: (screened) => seals.checkDecision(screened),
      verifyInstruction: async (jws) => (await signatures.verifier().verify(jws)).payload,
      sealSettled: (settled) => seals.sealSettled(settled),
      producer: runtime.producer,
      metrics,
      logger,
    });
  },
};
