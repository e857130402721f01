import type { LayerSummary, ModelSummary, ReceptiveField } from '../core/analysis/types';
import { markdownText, singleLineField } from '../core/safeText';
import { formatBytes, formatCount, formatScaled, formatShape } from '../core/format';

/**
 * Printers for `layerscope summary`: a torchinfo-like table for people, a Markdown table to paste into a README, and
 * the JSON contract of DESIGN.md. They only format numbers that the analysis computed.
 */

/** The JSON document, exactly the ModelSummary object (contract fields plus `model` and `memory`). */
export function formatSummaryJson(summary: ModelSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

// Shapes, bytes and counts read the same everywhere (core/format.ts); re-exported for the CLI's other printers.
export { formatBytes, formatCount, formatScaled, formatShape };

/** `7x7 /2 @0,0`: size, effective stride, centre of unit 0. `global` once a node sees the whole input. */
export function formatReceptiveField(rf: ReceptiveField | null): string {
  if (!rf) return '-';
  if (rf.global) return 'global';
  return `${rf.size.join('x')} /${rf.stride.join('x')} @${rf.start.join(',')}`;
}

function layerShape(layer: LayerSummary): string {
  const first = layer.outputs[0];
  if (!first) return '';
  const extra = layer.outputs.length > 1 ? ` +${layer.outputs.length - 1}` : '';
  return formatShape(first.shape) + extra;
}

/** Long exporter names (`/encoder/layers/encoder_layer_0/...`) keep their informative tail. */
function truncateName(name: string, width: number): string {
  if (name.length <= width) return name;
  return `…${name.slice(name.length - width + 1)}`;
}

/** The header line, printed before the model is read so that large files show something at once. */
export function formatHeader(path: string, sizeBytes: number | undefined): string {
  return `Model: ${singleLineField(path)}${sizeBytes !== undefined ? ` (${formatBytes(sizeBytes)})` : ''}\n`;
}

export function formatSummaryTable(summary: ModelSummary): string {
  const rows = summary.layers.map((l) => [
    singleLineField(`${l.name || '(unnamed)'} (${l.op})`),
    layerShape(l),
    l.params ? formatCount(l.params) : '-',
    l.macs ? formatCount(l.macs) : '-',
    formatReceptiveField(l.receptiveField),
  ]);
  const head = ['Layer (op)', 'Output shape', 'Params', 'MACs', 'Receptive field'];
  const nameWidth = Math.min(60, Math.max(head[0].length, ...rows.map((r) => r[0].length)));
  const widths = head.map((h, i) => (i === 0 ? nameWidth : Math.max(h.length, ...rows.map((r) => r[i].length))));
  const rightAligned = [false, false, true, true, false];
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const text = i === 0 ? truncateName(c, nameWidth) : c;
        return rightAligned[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const heavy = '='.repeat(total);
  const light = '-'.repeat(total);
  const out: string[] = [];
  const producer = summary.model?.producer ? `, producer ${singleLineField(summary.model.producer)}` : '';
  out.push(`Format: ${summary.format}, opset ${summary.opset}${producer}`);
  for (const i of summary.inputs) out.push(`Input:  ${singleLineField(i.name)} ${formatShape(i.shape)} ${i.dtype ?? '?'}`);
  for (const o of summary.outputs) out.push(`Output: ${singleLineField(o.name)} ${formatShape(o.shape)} ${o.dtype ?? '?'}`);
  out.push(heavy, line(head), light);
  for (const r of rows) out.push(line(r));
  out.push(heavy);
  const t = summary.totals;
  out.push(`Total params: ${formatCount(t.params)}`);
  out.push(`Trainable params: ${formatCount(t.trainableParams)}`);
  out.push(`Non-trainable params: ${formatCount(t.nonTrainableParams)}`);
  out.push(`Total MACs: ${formatCount(t.macs)} (${formatScaled(t.macs)})`);
  out.push(light);
  const m = summary.memory;
  if (m) {
    out.push(`Input size: ${formatBytes(m.inputBytes)}`);
    out.push(`Forward/backward pass size: ${formatBytes(m.forwardBackwardBytes)}`);
    const byType = Object.entries(m.paramBytesByDtype)
      .map(([k, v]) => `${k} ${formatBytes(v)}`)
      .join(', ');
    out.push(`Params size: ${formatBytes(m.paramBytes)}${byType && Object.keys(m.paramBytesByDtype).length > 1 ? ` (${byType})` : ''}`);
    out.push(`Estimated total size: ${formatBytes(m.estimatedTotalBytes)}`);
  } else {
    out.push(`Params size: ${formatBytes(t.paramBytes)}`);
    out.push(`Activations: ${formatBytes(t.activationBytes)}`);
  }
  out.push(heavy);
  if (summary.modules && summary.modules.length > 0) {
    out.push('Modules:');
    for (const mod of summary.modules) {
      out.push(`  ${singleLineField(mod.name)} (line ${mod.line}): ${mod.params === null ? '?' : formatCount(mod.params)} params`);
      for (const l of mod.layers) {
        out.push(`    ${singleLineField(l.name)} ${singleLineField(l.type)} (line ${l.line}): ${l.params === null ? '?' : formatCount(l.params)} params, ${formatShape(l.outputShape)}`);
      }
    }
  }
  if (summary.warnings.length > 0) {
    out.push(`Warnings (${summary.warnings.length}):`);
    for (const w of summary.warnings) out.push(`  - ${singleLineField(w)}`);
  }
  return `${out.join('\n')}\n`;
}

export function formatSummaryMarkdown(summary: ModelSummary): string {
  const out: string[] = [];
  out.push('| Layer | Op | Output shape | Params | MACs | Receptive field |');
  out.push('| --- | --- | --- | ---: | ---: | --- |');
  for (const l of summary.layers) {
    out.push(
      `| ${markdownText(l.name || '(unnamed)')} | ${markdownText(l.op)} | ${markdownText(layerShape(l))} | ${formatCount(l.params)} | ${formatCount(l.macs)} | ${markdownText(formatReceptiveField(l.receptiveField))} |`,
    );
  }
  const t = summary.totals;
  out.push('');
  out.push('| Total | Value |');
  out.push('| --- | ---: |');
  out.push(`| Params | ${formatCount(t.params)} |`);
  out.push(`| Trainable params | ${formatCount(t.trainableParams)} |`);
  out.push(`| Non-trainable params | ${formatCount(t.nonTrainableParams)} |`);
  out.push(`| MACs | ${formatCount(t.macs)} |`);
  out.push(`| Params size | ${formatBytes(t.paramBytes)} |`);
  if (summary.memory) {
    out.push(`| Input size | ${formatBytes(summary.memory.inputBytes)} |`);
    out.push(`| Forward/backward pass size | ${formatBytes(summary.memory.forwardBackwardBytes)} |`);
    out.push(`| Estimated total size | ${formatBytes(summary.memory.estimatedTotalBytes)} |`);
  }
  if (summary.warnings.length > 0) {
    out.push('');
    for (const w of summary.warnings) out.push(`- ${markdownText(w)}`);
  }
  return `${out.join('\n')}\n`;
}
