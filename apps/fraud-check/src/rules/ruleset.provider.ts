import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { FRAUD_CHECK_CONFIG, FraudCheckConfig } from '../config';
import { LoadedRuleSet, RuleSet, RuleSetError, parseRuleSet } from './ruleset';

export interface CurrentRuleSet extends LoadedRuleSet {
  readonly loadedAt: string;
}

/**
 * Holds the current rule set; re-reads RULES_FILE when it changes. A new content must come with a new version
 * (so a recorded version names exactly one content); an invalid file or a changed file under the old version is
 * refused and the previous set stays in force.
 */
@Injectable()
export class RuleSetProvider implements OnModuleInit, OnApplicationShutdown {
  private loaded: CurrentRuleSet | undefined;
  private refused: { at: string; reason: string } | undefined;
  // its own listener: unwatchFile without one would also stop other watchers of the file in this process
  private readonly onChange = () => this.reload();

  constructor(
    @Inject(FRAUD_CHECK_CONFIG) private readonly config: FraudCheckConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('rules');
  }

  onModuleInit(): void {
    this.loaded = this.read(); // an invalid file at boot stops the service
    this.logger.info({ version: this.loaded.ruleset.version, rules: this.loaded.ruleset.rules.length, sha256: this.loaded.sha256 }, 'rule set loaded');
    watchFile(this.config.rulesFile, { interval: 1000 }, this.onChange);
  }

  /** Re-reads the file now (also what the file watcher calls). */
  reload(): void {
    try {
      const next = this.read();
      const previous = this.loaded;
      if (previous && next.sha256 === previous.sha256) return;
      if (previous && next.ruleset.version === previous.ruleset.version) {
        throw new RuleSetError(`content changed but version is still ${next.ruleset.version}: give the new rule set a new version`);
      }
      this.loaded = next;
      this.logger.info({ version: next.ruleset.version, previous: previous?.ruleset.version, sha256: next.sha256 }, 'rule set reloaded');
    } catch (err) {
      this.refused = { at: new Date().toISOString(), reason: (err as Error).message };
      this.logger.error({ err: this.refused.reason, version: this.loaded?.ruleset.version }, 'rule set reload refused; keeping the previous version');
    }
  }

  private read(): CurrentRuleSet {
    return { ...parseRuleSet(readFileSync(this.config.rulesFile, 'utf8'), this.config.rulesFile), loadedAt: new Date().toISOString() };
  }

  current(): RuleSet {
    return this.loadedRuleSet().ruleset;
  }

  /** The last reload that was refused, if any (shown to operators with the rule set in force). */
  lastRefusal(): { at: string; reason: string } | undefined {
    return this.refused;
  }

  loadedRuleSet(): CurrentRuleSet {
    if (!this.loaded) throw new Error('rule set not loaded');
    return this.loaded;
  }

  onApplicationShutdown(): void {
    unwatchFile(this.config.rulesFile, this.onChange);
  }
}
