import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from '../config';
import { RuleSet, RuleSetSchema } from './ruleset';

/** Holds the current rule set; re-reads RULES_FILE when it changes and keeps the old set if the new one is invalid. */
@Injectable()
export class RuleSetProvider implements OnModuleInit, OnApplicationShutdown {
  private ruleset: RuleSet | undefined;

  constructor(
    @Inject(FRAUD_CHECK_CONFIG) private readonly config: FraudCheckConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('rules');
  }

  onModuleInit(): void {
    this.ruleset = this.read(); // an invalid file at boot stops the service
    this.logger.info({ version: this.ruleset.version, rules: this.ruleset.rules.length }, 'rule set loaded');
    watchFile(this.config.rulesFile, { interval: 1000 }, () => {
      try {
        this.ruleset = this.read();
        this.logger.info({ version: this.ruleset.version }, 'rule set reloaded');
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'rule set reload refused; keeping the previous version');
      }
    });
  }

  private read(): RuleSet {
    return RuleSetSchema.parse(JSON.parse(readFileSync(this.config.rulesFile, 'utf8')));
  }

  current(): RuleSet {
    if (!this.ruleset) throw new Error('rule set not loaded');
    return this.ruleset;
  }

  onApplicationShutdown(): void {
    unwatchFile(this.config.rulesFile);
  }
}
