import type { NodeDetails, NodeDetailValue } from '../src/core/analysis/nodeDetails';
import { clear, h } from './dom';
import { formatCount, formatShape } from '../src/core/format';

/**
 * The node details side panel of the graph pane (Netron's sidebar is what users know): the selected layer's op,
 * attributes, inputs and outputs with shapes and element types, which inputs are stored weights, its parameters and
 * MACs. The host computes the details from the model; this only lays them out.
 */
export class NodeDetailsPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly doc: Document,
    onClose: () => void,
  ) {
    const close = h(doc, 'vscode-button', { secondary: true, class: 'nd-close', title: 'Close the node details', 'aria-label': 'Close the node details' }, '×');
    close.addEventListener('click', () => {
      this.hide();
      onClose();
    });
    this.body = h(doc, 'div', { class: 'nd-body' });
    this.element = h(doc, 'aside', { class: 'node-details', 'aria-label': 'Node details', hidden: true }, h(doc, 'div', { class: 'nd-head' }, h(doc, 'strong', {}, 'Node'), close), this.body);
  }

  get shown(): boolean {
    return !this.element.hidden;
  }

  hide(): void {
    this.element.hidden = true;
  }

  show(details: NodeDetails | null): void {
    const doc = this.doc;
    clear(this.body);
    this.element.hidden = false;
    if (!details) {
      this.body.appendChild(h(doc, 'p', { class: 'nd-empty' }, 'No details for this node.'));
      return;
    }
    const row = (label: string, value: string, cls = ''): HTMLElement =>
      h(doc, 'tr', { class: cls || null }, h(doc, 'th', { scope: 'row' }, label), h(doc, 'td', {}, value));
    const facts = h(doc, 'table', { class: 'nd-table nd-facts' }, row('op', details.op), row('name', details.name || '(unnamed)', 'nd-name'));
    facts.append(row('params', formatCount(details.params), 'nd-params'), row('MACs', formatCount(details.macs), 'nd-macs'));
    if (details.line !== undefined) facts.appendChild(row('line', String(details.line)));
    this.body.appendChild(facts);
    if (details.attributes.length > 0) {
      this.body.append(
        h(doc, 'h4', {}, 'Attributes'),
        h(doc, 'table', { class: 'nd-table nd-attributes' }, ...details.attributes.map((a) => row(a.name, a.value, `nd-attr-${a.name}`))),
      );
    }
    const values = (title: string, list: NodeDetailValue[], cls: string): void => {
      if (list.length === 0) return;
      this.body.append(
        h(doc, 'h4', {}, title),
        h(
          doc,
          'ul',
          { class: `nd-values ${cls}` },
          ...list.map((v) =>
            h(
              doc,
              'li',
              { class: v.stored ? 'nd-value nd-weight' : 'nd-value' },
              h(doc, 'span', { class: 'nd-value-name' }, v.name),
              h(doc, 'span', { class: 'nd-value-type' }, ` ${formatShape(v.shape)} ${v.dtype ?? '?'}`),
              v.stored ? h(doc, 'span', { class: 'nd-value-weight' }, ` weight, ${formatCount(v.stored.elements)} values${v.stored.source !== v.name ? ` (${v.stored.source})` : ''}`) : null,
            ),
          ),
        ),
      );
    };
    values('Inputs', details.inputs, 'nd-inputs');
    values('Outputs', details.outputs, 'nd-outputs');
  }
}
