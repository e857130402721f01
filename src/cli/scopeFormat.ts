import { allScopes, buildScopeTree, type ScopeNode } from '../core/analysis/scopes';
import type { ModelSummary } from '../core/analysis/types';
import { formatCount, formatScaled } from './summaryFormat';
import { singleLineField } from '../core/safeText';

/**
 * `layerscope summary --by-scope`: parameters and MACs per name scope (`layer1`, `layer1.0`, …) down to a depth, in
 * graph order, from the same scope tree the inspector's graph and breakdown use (core/analysis/scopes.ts).
 */

export interface ScopeRow {
  scope: string;
  depth: number;
  layers: number;
  params: number;
  macs: number;
}

export function scopeRows(summary: ModelSummary, maxDepth: number): ScopeRow[] {
  const tree = buildScopeTree(summary.layers);
  const rows: ScopeRow[] = [];
  const top = tree.layers.length;
  if (top > 0) {
    let params = 0;
    let macs = 0;
    for (const i of tree.layers) {
      params += summary.layers[i]!.params;
      macs += summary.layers[i]!.macs;
    }
    rows.push({ scope: '(top level)', depth: 1, layers: top, params, macs });
  }
  for (const node of allScopes(tree)) {
    if (node.path.length === 0 || node.path.length > maxDepth) continue;
    rows.push(row(node));
  }
  return rows;
}

function row(node: ScopeNode): ScopeRow {
  return { scope: node.path.join('.'), depth: node.path.length, layers: node.size, params: node.params, macs: node.macs };
}

export function formatScopeTable(rows: readonly ScopeRow[]): string {
  const header = ['scope', 'layers', 'params', 'MACs'];
  const cells = rows.map((r) => [`${'  '.repeat(r.depth - 1)}${singleLineField(r.scope)}`, String(r.layers), formatCount(r.params), formatScaled(r.macs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}
