import type { ModelSummary } from '../core/analysis/types';
import { csvField } from '../core/safeText';
import type { ExportFormat } from '../protocol/messages';
import { formatReceptiveField, formatShape, formatSummaryJson, formatSummaryMarkdown } from '../cli/summaryFormat';

/**
 * The "Export Summary…" and "Copy Summary as Markdown" formats. Markdown and JSON are the CLI's own printers, so the
 * editor and `layerscope summary` never disagree; CSV is for spreadsheets and has one row per layer.
 */

export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { markdown: 'md', json: 'json', csv: 'csv' };

export function formatSummary(summary: ModelSummary, format: ExportFormat): string {
  switch (format) {
    case 'markdown':
      return formatSummaryMarkdown(summary);
    case 'json':
      return formatSummaryJson(summary);
    case 'csv':
      return formatSummaryCsv(summary);
  }
}

export { csvField };

export function formatSummaryCsv(summary: ModelSummary): string {
  const rows: (string | number)[][] = [['name', 'op', 'output_shape', 'params', 'macs', 'activation_bytes', 'receptive_field']];
  for (const layer of summary.layers) {
    rows.push([
      layer.name,
      layer.op,
      layer.outputs.map((o) => formatShape(o.shape)).join(' '),
      layer.params,
      layer.macs,
      layer.activationBytes,
      formatReceptiveField(layer.receptiveField),
    ]);
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
