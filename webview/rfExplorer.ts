import type { ModelSummary } from '../src/core/analysis/types';
import { rfDepthChart } from './charts/rfDepth';
import { rfGrid } from './charts/rfGrid';
import { clear, controlValue, h, layoutWidth, onWidthChange } from './dom';
import { formatShape } from '../src/core/format';
import { clampUnit, depthSeries, spatialDims, unitNearest, unitSpan } from './receptiveField';
import type { SpatialField } from './receptiveField';


/**
 * The receptive-field explorer: pick a layer, pick one of its output units, and see which input pixels it reads,
 * where its neighbours' fields are centred, and how much padding it reaches into; beside it, field size over depth.
 */
export class RfExplorer {
  readonly element: HTMLElement;
  private readonly picker: HTMLElement;
  private readonly unitY: HTMLElement;
  private readonly unitX: HTMLElement;
  private readonly gridBox: HTMLElement;
  private readonly depthBox: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly candidates: number[];
  private layerIndex = -1;
  private unit: number[] = [0, 0];

  constructor(
    private readonly doc: Document,
    private readonly summary: ModelSummary,
  ) {
    this.candidates = [];
    summary.layers.forEach((layer, i) => {
      if (layer.receptiveField && !layer.receptiveField.global) this.candidates.push(i);
    });
    // 'contains' filtering, so that the first shown option is the first candidate whose label contains the text.
    this.picker = h(doc, 'vscode-single-select', { class: 'rf-picker', combobox: true, filter: 'contains', 'aria-label': 'Layer' });
    for (const i of this.candidates) {
      this.picker.appendChild(h(doc, 'vscode-option', { value: i }, this.optionLabel(i)));
    }
    this.pickByKeyboard();
    this.picker.addEventListener('change', () => {
      const value = Number(controlValue(this.picker));
      if (Number.isInteger(value)) this.showLayer(value);
    });
    this.unitY = h(doc, 'vscode-textfield', { type: 'number', min: 0, value: 0, 'aria-label': 'Output row', class: 'rf-unit' });
    this.unitX = h(doc, 'vscode-textfield', { type: 'number', min: 0, value: 0, 'aria-label': 'Output column', class: 'rf-unit' });
    const onUnit = (): void => {
      const y = Number(controlValue(this.unitY)) || 0;
      const x = Number(controlValue(this.unitX)) || 0;
      // A one-dimensional field has only a column.
      this.setUnit((this.field()?.size.length ?? 2) >= 2 ? [y, x] : [x]);
    };
    this.unitY.addEventListener('change', onUnit);
    this.unitX.addEventListener('change', onUnit);
    this.gridBox = h(doc, 'div', { class: 'rf-grid-box' });
    this.depthBox = h(doc, 'div', { class: 'rf-depth-box' });
    // The depth chart is drawn for its box's width, and again when that changes, never scaled like an image.
    onWidthChange(this.depthBox, () => this.drawDepth());
    this.caption = h(doc, 'p', { class: 'rf-caption', 'aria-live': 'polite' });
    this.gridBox.addEventListener('click', (e) => this.onGridClick(e));
    this.element = h(
      doc,
      'section',
      { class: 'rf-explorer', 'aria-label': 'Receptive field explorer' },
      h(doc, 'div', { class: 'rf-controls' }, h(doc, 'label', {}, 'Layer '), this.picker, h(doc, 'label', {}, ' unit row '), this.unitY, h(doc, 'label', {}, ' column '), this.unitX),
      this.caption,
      h(
        doc,
        'div',
        { class: 'rf-charts' },
        h(
          doc,
          'figure',
          { class: 'rf-figure' },
          this.gridBox,
          h(
            doc,
            'figcaption',
            { class: 'rf-legend' },
            h(doc, 'span', { class: 'rf-key rf-key-input' }, 'input'),
            h(doc, 'span', { class: 'rf-key rf-key-field' }, 'receptive field'),
            h(doc, 'span', { class: 'rf-key rf-key-pad' }, 'padding'),
            h(doc, 'span', { class: 'rf-key rf-key-stride' }, 'unit centres (stride)'),
            h(doc, 'span', {}, ' · click the input to pick a unit'),
          ),
        ),
        this.depthBox,
      ),
    );
    if (this.candidates.length === 0) {
      this.caption.textContent = 'No layer of this model has a spatial receptive field.';
    }
    const last = this.candidates[this.candidates.length - 1];
    if (last !== undefined) this.showLayer(last);
    else this.drawDepth();
  }

  /**
   * Typing in the combobox and pressing Enter must pick the first layer the typed text filters to. The element resets
   * its active option on every keystroke, and Enter then picks the model's first layer instead, so Enter right after
   * typing (no arrow key in between) is answered here: the first candidate whose label contains the text, as the
   * 'contains' filter lists them.
   */
  private pickByKeyboard(): void {
    let typed = '';
    this.picker.addEventListener('input', (e) => {
      const target = e.composedPath()[0] as HTMLInputElement | undefined;
      typed = typeof target?.value === 'string' ? target.value : '';
    });
    this.picker.addEventListener(
      'keydown',
      (e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') typed = '';
        if (e.key !== 'Enter' || typed.trim() === '') return;
        const q = typed.trim().toLowerCase();
        const hit = this.candidates.find((i) => this.optionLabel(i).toLowerCase().includes(q));
        if (hit === undefined) return;
        e.stopImmediatePropagation();
        e.preventDefault();
        typed = '';
        (this.picker as unknown as { open: boolean }).open = false;
        this.showLayer(hit);
      },
      { capture: true },
    );
  }

  private optionLabel(layerIndex: number): string {
    const layer = this.summary.layers[layerIndex]!;
    return `${layer.name} (${layer.op})`;
  }

  get currentLayer(): number {
    return this.layerIndex;
  }

  get currentUnit(): readonly number[] {
    return this.unit;
  }

  /** Shows a layer's field; layers without a spatial field are ignored. Returns whether it was shown. */
  showLayer(layerIndex: number): boolean {
    const rf = this.summary.layers[layerIndex]?.receptiveField;
    if (!rf || rf.global) return false;
    this.layerIndex = layerIndex;
    this.picker.setAttribute('value', String(layerIndex));
    (this.picker as unknown as { value: string }).value = String(layerIndex);
    // Start from the centre unit, whose field is the least clipped and so the most typical.
    const out = this.outputSize(rf);
    this.unit = out ? out.map((n) => Math.floor((n - 1) / 2)) : rf.size.map(() => 0);
    this.draw();
    return true;
  }

  setUnit(unit: number[]): void {
    const rf = this.field();
    if (!rf) return;
    this.unit = clampUnit(unit, this.outputSize(rf));
    this.draw();
  }

  private field(): SpatialField | null {
    const rf = this.summary.layers[this.layerIndex]?.receptiveField;
    return rf && !rf.global ? rf : null;
  }

  private outputSize(rf: SpatialField): number[] | null {
    return spatialDims(this.summary.layers[this.layerIndex]?.outputs[0]?.shape, rf.size.length);
  }

  private inputSize(rf: SpatialField): number[] {
    for (const input of this.summary.inputs) {
      const dims = spatialDims(input.shape, rf.size.length);
      if (dims) return dims;
    }
    // Unknown input size: draw just enough input to hold the field, so the field itself is still shown.
    return rf.size.map((size, axis) => Math.max(size, (rf.start[axis] ?? 0) * 2 + 1));
  }

  private draw(): void {
    const rf = this.field();
    if (!rf) return;
    const layer = this.summary.layers[this.layerIndex]!;
    const inputSize = this.inputSize(rf);
    const outputSize = this.outputSize(rf);
    const axes = rf.size.length;
    const unit = this.unit.slice(-axes);
    const spans = unitSpan(rf, unit);
    for (const [field, value] of [
      [this.unitY, unit.length >= 2 ? unit[0]! : 0],
      [this.unitX, unit[unit.length - 1] ?? 0],
    ] as const) {
      field.setAttribute('value', String(value));
      (field as unknown as { value: string }).value = String(value);
    }
    clear(this.gridBox);
    this.gridBox.appendChild(
      rfGrid({ inputSize: axes >= 2 ? inputSize.slice(-2) : inputSize, rf, unit, outputSize }, {}, this.doc),
    );
    const range = spans.map((sp) => `${sp.low}…${sp.high}`).join(' × ');
    this.caption.textContent =
      `${layer.name} (${layer.op}), output ${formatShape(layer.outputs[0]?.shape ?? null)}: ` +
      `unit (${unit.join(', ')}) sees input ${range}; field ${rf.size.join('×')}, stride ${rf.stride.join('×')}.`;
    this.drawDepth();
  }

  private drawDepth(): void {
    clear(this.depthBox);
    this.depthBox.appendChild(rfDepthChart(depthSeries(this.summary.layers), { highlight: this.layerIndex, width: Math.min(layoutWidth(this.depthBox, 520), 720) }, this.doc));
  }

  private onGridClick(e: MouseEvent): void {
    const rf = this.field();
    const svg = this.gridBox.querySelector('svg');
    if (!rf || !svg || rf.size.length < 2) return;
    // Map the click back to input coordinates through the drawing's own scale, kept on the svg as data-* values.
    const rect = svg.getBoundingClientRect();
    const box = svg.getAttribute('data-frame')?.split(',').map(Number);
    if (!box || box.length !== 4 || rect.width === 0) return;
    const [x0, y0, cell, margin] = box as [number, number, number, number];
    const x = (e.clientX - rect.left - margin) / cell + x0;
    const y = (e.clientY - rect.top - margin) / cell + y0;
    this.unit = unitNearest(rf, [y - 0.5, x - 0.5], this.outputSize(rf));
    this.draw();
  }
}
