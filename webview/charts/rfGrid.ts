import { s } from '../dom';
import { paddingOverlap, unitSpan } from '../receptiveField';
import type { SpatialField } from '../receptiveField';

export interface RfGridData {
  /** Input spatial size, [height, width]; a 1-D field uses [1, length]. */
  inputSize: number[];
  rf: SpatialField;
  /** The chosen output unit, one index per axis of `rf`. */
  unit: number[];
  /** Output spatial size, when known, for drawing the stride grid of all units. */
  outputSize: number[] | null;
}

export interface RfGridOptions {
  /** Largest side of the drawing in pixels. */
  maxSide?: number;
  /** Units drawn as separate dots at most; beyond this the stride grid is drawn as a repeating pattern. */
  maxStrideDots?: number;
}

/** Pads a 1-D field to two axes so that one drawing routine serves both. */
function twoAxes(rf: SpatialField, unit: number[], outputSize: number[] | null) {
  if (rf.size.length >= 2) return { rf, unit, outputSize };
  return {
    rf: { ...rf, size: [1, ...rf.size], stride: [1, ...rf.stride], start: [0, ...rf.start] },
    unit: [0, ...unit],
    outputSize: outputSize ? [1, ...outputSize] : null,
  };
}

/**
 * The input grid with one output unit's receptive field, the centres of its neighbours' fields (the stride grid),
 * and the padding the field reaches into. Pure: returns a detached <svg>.
 */
let patternCount = 0;

export function rfGrid(data: RfGridData, options: RfGridOptions, doc: Document): SVGSVGElement {
  const maxSide = options.maxSide ?? 360;
  const maxDots = options.maxStrideDots ?? 2500;
  const { rf, unit, outputSize } = twoAxes(data.rf, data.unit, data.outputSize);
  const [inH, inW] = data.inputSize.length >= 2 ? [data.inputSize[0]!, data.inputSize[1]!] : [1, data.inputSize[0] ?? 1];
  const [spanY, spanX] = unitSpan(rf, unit) as [ReturnType<typeof unitSpan>[0], ReturnType<typeof unitSpan>[0]];
  const x0 = Math.min(0, spanX.low);
  const y0 = Math.min(0, spanY.low);
  const x1 = Math.max(inW, spanX.high + 1);
  const y1 = Math.max(inH, spanY.high + 1);
  const cell = maxSide / Math.max(x1 - x0, y1 - y0);
  const margin = 4;
  const px = (x: number): number => margin + (x - x0) * cell;
  const py = (y: number): number => margin + (y - y0) * cell;
  const width = Math.ceil(px(x1) + margin);
  const height = Math.ceil(py(y1) + margin);
  const padY = paddingOverlap(spanY, inH);
  const padX = paddingOverlap(spanX, inW);
  const label = `Receptive field of output unit (${unit.join(', ')})`;
  const svg = s(doc, 'svg', {
    class: 'chart rf-grid',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': label,
    'data-span': `${spanY.low},${spanY.high},${spanX.low},${spanX.high}`,
    'data-padding': `${padY.before},${padY.after},${padX.before},${padX.after}`,
    // The drawing's frame (origin, cell size, margin), so that a click can be mapped back to input coordinates.
    'data-frame': `${x0},${y0},${cell},${margin}`,
  });
  svg.appendChild(s(doc, 'rect', { class: 'rf-input', x: px(0), y: py(0), width: inW * cell, height: inH * cell }));
  if (cell >= 4) {
    const grid = s(doc, 'g', { class: 'rf-gridlines' });
    for (let x = 1; x < inW; x++) grid.appendChild(s(doc, 'line', { x1: px(x), x2: px(x), y1: py(0), y2: py(inH) }));
    for (let y = 1; y < inH; y++) grid.appendChild(s(doc, 'line', { x1: px(0), x2: px(inW), y1: py(y), y2: py(y) }));
    svg.appendChild(grid);
  }
  svg.appendChild(
    s(doc, 'rect', {
      class: 'rf-field',
      x: px(spanX.low),
      y: py(spanY.low),
      width: (spanX.high - spanX.low + 1) * cell,
      height: (spanY.high - spanY.low + 1) * cell,
    }),
  );

  // The padding the field reaches into: the bands of the drawing outside the input, drawn over the field.
  const pad = s(doc, 'g', { class: 'rf-pad' });
  const band = (bx0: number, by0: number, bx1: number, by1: number): void => {
    if (bx1 > bx0 && by1 > by0) pad.appendChild(s(doc, 'rect', { x: px(bx0), y: py(by0), width: (bx1 - bx0) * cell, height: (by1 - by0) * cell }));
  };
  band(x0, y0, x1, 0);
  band(x0, inH, x1, y1);
  band(x0, 0, 0, inH);
  band(inW, 0, x1, inH);
  svg.appendChild(pad);

  // Stride grid: where each output unit's field is centred, for every unit. Small outputs get a dot per unit; large ones
  // the same lattice as an SVG pattern, one tile per stride, so the drawing stays small whatever the output size.
  const outH = outputSize?.[0] ?? 1;
  const outW = outputSize?.[1] ?? 1;
  const dots = s(doc, 'g', { class: 'rf-stride' });
  const r = Math.max(1, Math.min(3, cell * 0.25));
  const centreY = (uy: number): number => rf.start[0]! + uy * rf.stride[0]! + 0.5;
  const centreX = (ux: number): number => rf.start[1]! + ux * rf.stride[1]! + 0.5;
  if (outH * outW <= maxDots) {
    for (let uy = 0; uy < outH; uy++) {
      for (let ux = 0; ux < outW; ux++) dots.appendChild(s(doc, 'circle', { cx: px(centreX(ux)), cy: py(centreY(uy)), r }));
    }
  } else {
    const id = `rf-stride-${++patternCount}`;
    const tileW = rf.stride[1]! * cell;
    const tileH = rf.stride[0]! * cell;
    const left = px(centreX(0)) - tileW / 2;
    const top = py(centreY(0)) - tileH / 2;
    const pattern = s(
      doc,
      'pattern',
      { id, class: 'rf-stride-pattern', patternUnits: 'userSpaceOnUse', x: left, y: top, width: tileW, height: tileH },
      s(doc, 'circle', { cx: tileW / 2, cy: tileH / 2, r: Math.min(r, tileW / 3, tileH / 3) }),
    );
    dots.append(
      s(doc, 'defs', {}, pattern),
      s(doc, 'rect', { class: 'rf-stride-lattice', x: left, y: top, width: outW * tileW, height: outH * tileH, fill: `url(#${id})`, 'data-units': outH * outW }),
    );
  }
  svg.appendChild(dots);
  svg.appendChild(s(doc, 'circle', { class: 'rf-centre', cx: px(spanX.centre + 0.5), cy: py(spanY.centre + 0.5), r: r + 2 }));
  svg.appendChild(s(doc, 'title', {}, label));
  return svg;
}
