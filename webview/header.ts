import type { ModelSummary, ValueSummary } from '../src/core/analysis/types';
import { h } from './dom';
import { formatBytes, formatCount, formatScaled, formatShape } from '../src/core/format';

function valueList(doc: Document, title: string, values: readonly ValueSummary[]): HTMLElement {
  return h(
    doc,
    'div',
    { class: 'hd-values' },
    h(doc, 'h3', {}, title),
    h(
      doc,
      'ul',
      {},
      ...values.map((v) =>
        h(doc, 'li', {}, h(doc, 'code', { class: 'hd-value-name' }, v.name), ' ', formatShape(v.shape), v.dtype ? ` ${v.dtype}` : ''),
      ),
    ),
  );
}

function stat(doc: Document, label: string, value: string, title?: string, key?: string): HTMLElement {
  return h(
    doc,
    'div',
    { class: 'hd-stat', title: title ?? null, 'data-key': key ?? null },
    h(doc, 'div', { class: 'hd-stat-value' }, value),
    h(doc, 'div', { class: 'hd-stat-label' }, label),
  );
}

/**
 * The inspector's header: what the model is, what goes in and out, and its totals. Every string from the model goes
 * in as text; the only markup here is the view's own.
 */
export function renderHeader(doc: Document, summary: ModelSummary, title: string): HTMLElement {
  const info = summary.model ?? {};
  const facts: string[] = [];
  if (info.producer) facts.push(`producer ${info.producer}`);
  if (summary.format === 'onnx') facts.push(`opset ${summary.opset}`);
  if (info.irVersion !== undefined) facts.push(`IR v${info.irVersion}`);
  facts.push(`${formatCount(summary.layers.length)} layers`);
  const t = summary.totals;
  const stats = h(
    doc,
    'div',
    { class: 'hd-stats' },
    stat(doc, 'params', formatScaled(t.params), `${formatCount(t.params)} parameters`, 'params'),
    stat(doc, 'trainable', formatCount(t.trainableParams), undefined, 'trainableParams'),
    stat(doc, 'non-trainable', formatCount(t.nonTrainableParams), undefined, 'nonTrainableParams'),
    stat(doc, 'MACs', formatScaled(t.macs), `${formatCount(t.macs)} multiply-accumulates`, 'macs'),
    stat(doc, 'param memory', formatBytes(t.paramBytes), undefined, 'paramBytes'),
    stat(doc, 'activation memory', formatBytes(t.activationBytes), undefined, 'activationBytes'),
  );
  if (summary.memory) {
    stats.appendChild(
      stat(
        doc,
        'estimated total (torchinfo)',
        formatBytes(summary.memory.estimatedTotalBytes),
        `input ${formatBytes(summary.memory.inputBytes)} + forward/backward ${formatBytes(summary.memory.forwardBackwardBytes)} + params ${formatBytes(summary.memory.paramBytes)}`,
        'estimatedTotalBytes',
      ),
    );
  }
  const header = h(
    doc,
    'header',
    { class: 'inspector-header' },
    h(doc, 'h1', { class: 'hd-title' }, title || info.name || 'Model'),
    h(doc, 'div', { class: 'hd-facts' }, facts.join(' · ')),
    info.docString ? h(doc, 'p', { class: 'hd-doc' }, info.docString) : null,
    h(doc, 'div', { class: 'hd-io' }, valueList(doc, 'Inputs', summary.inputs), valueList(doc, 'Outputs', summary.outputs)),
    stats,
  );
  const metadata = Object.entries(info.metadata ?? {});
  if (metadata.length > 0) {
    const dl = h(doc, 'dl', { class: 'hd-metadata' });
    for (const [key, value] of metadata) dl.append(h(doc, 'dt', {}, key), h(doc, 'dd', {}, value));
    header.appendChild(h(doc, 'vscode-collapsible', { heading: `Metadata (${metadata.length})`, class: 'hd-metadata-box' }, dl));
  }
  // PyTorch source: the modules found in the file, with the parameters counted from their constructor arguments.
  const modules = summary.modules ?? [];
  if (modules.length > 0) {
    const list = h(doc, 'ul', { class: 'hd-modules' });
    for (const m of modules) {
      const params = m.params === null ? 'params unknown' : `${formatCount(m.params)} params`;
      list.appendChild(h(doc, 'li', {}, h(doc, 'code', {}, m.name), ` line ${m.line}: ${params}, ${m.layers.length} layers`));
    }
    header.appendChild(h(doc, 'vscode-collapsible', { heading: `Modules (${modules.length})`, class: 'hd-modules-box', open: true }, list));
  }
  if (summary.warnings.length > 0) {
    header.appendChild(
      h(
        doc,
        'vscode-collapsible',
        { heading: `Warnings (${summary.warnings.length})`, class: 'hd-warnings' },
        h(doc, 'ul', {}, ...summary.warnings.map((w) => h(doc, 'li', {}, w))),
      ),
    );
  }
  return header;
}
