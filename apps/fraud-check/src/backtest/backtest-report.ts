// The backtest as text for a terminal: totals per decision, the transition matrix, the rules whose hit counts
// changed, and examples of changed decisions with the reasons on each side.
import { DecisionReason, formatDecimal, fromJson } from '@payrail/contracts';
import { BacktestResult, DECISIONS } from './backtest';

function pct(n: number, of: number): string {
  return of === 0 ? '0.0%' : `${((n / of) * 100).toFixed(1)}%`;
}

function reasonText(r: DecisionReason): string {
  const observed = r.observed ? Object.entries(r.observed).map(([k, v]) => `${k}=${String(v)}`).join(' ') : '';
  return `${r.rule}(+${r.score}${observed ? ` ${observed}` : ''})`;
}

export function renderBacktest(result: BacktestResult, labels: { current: string; candidate: string; source: string }): string {
  const lines: string[] = [];
  const total = result.payments;
  lines.push(`backtest: ${total} payments from ${labels.source}${result.from ? ` (accepted ${result.from} .. ${result.to})` : ''}`);
  const side = (name: string, s: BacktestResult['current'], file: string) =>
    `  ${name.padEnd(9)} ${s.version.padEnd(24)} ${DECISIONS.map((d) => `${d} ${String(s.decisions[d]).padStart(6)} (${pct(s.decisions[d], total).padStart(6)})`).join('  ')}   ${file}`;
  lines.push(side('current', result.current, labels.current));
  lines.push(side('candidate', result.candidate, labels.candidate));
  lines.push(`  changed decisions: ${result.changed} (${pct(result.changed, total)}); same decision, other score: ${result.rescored}`);
  lines.push('');
  lines.push(`  current \\ candidate ${DECISIONS.map((d) => d.padStart(9)).join('')}`);
  for (const from of DECISIONS) lines.push(`  ${from.padEnd(19)} ${DECISIONS.map((to) => String(result.transitions[from][to]).padStart(9)).join('')}`);

  const rules = new Set([...Object.keys(result.current.rule_hits), ...Object.keys(result.candidate.rule_hits)]);
  const moved = [...rules]
    .map((rule) => ({ rule, current: result.current.rule_hits[rule] ?? 0, candidate: result.candidate.rule_hits[rule] ?? 0 }))
    .filter((r) => r.current !== r.candidate)
    .sort((a, b) => Math.abs(b.candidate - b.current) - Math.abs(a.candidate - a.current));
  if (moved.length > 0) {
    lines.push('');
    lines.push('  rule hits that changed (current -> candidate):');
    for (const r of moved) lines.push(`    ${r.rule.padEnd(32)} ${String(r.current).padStart(7)} -> ${String(r.candidate).padStart(7)}`);
  }
  if (result.examples.length > 0) {
    lines.push('');
    lines.push('  examples:');
    for (const e of result.examples) {
      const amount = `${formatDecimal(fromJson(e.amount))} ${e.amount.currency}`;
      lines.push(`    ${e.current.decision} -> ${e.candidate.decision}  ${e.payment_id}  ${amount}  ${e.merchant_id}  ${e.accepted_at}`);
      lines.push(`      current   score ${e.current.score}: ${e.current.reasons.map(reasonText).join(', ') || '-'}`);
      lines.push(`      candidate score ${e.candidate.score}: ${e.candidate.reasons.map(reasonText).join(', ') || '-'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
