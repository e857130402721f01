import type { DataType, Dim } from '../../ir/types';
import { getInt, getString } from '../../ir/attributes';
import { broadcastShapes, formatShape, isKnown, mergeDims } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/** Matrix products: Gemm, MatMul with numpy's batched broadcasting, and Einsum. */

function gemm(ctx: ShapeRuleContext): void {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (a && a.length !== 2) mismatch(`A ${formatShape(a)} must be a matrix`);
  if (b && b.length !== 2) mismatch(`B ${formatShape(b)} must be a matrix`);
  const transA = getInt(ctx.node, 'transA', 0) === 1;
  const transB = getInt(ctx.node, 'transB', 0) === 1;
  const m = a ? a[transA ? 1 : 0] : null;
  const ka = a ? a[transA ? 0 : 1] : null;
  const kb = b ? b[transB ? 1 : 0] : null;
  const n = b ? b[transB ? 0 : 1] : null;
  if (isKnown(ka) && isKnown(kb) && ka !== kb) {
    mismatch(`A ${formatShape(a)}${transA ? ' (transposed)' : ''} has ${ka} columns but B ${formatShape(b)}${transB ? ' (transposed)' : ''} has ${kb} rows`);
  }
  ctx.set(0, dtype, [m, n]);
}

/** MatMul's output shape per numpy.matmul: 1-D operands gain and then lose an axis; batch axes broadcast. */
export function matmulShape(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b) return null;
  if (a.length === 0 || b.length === 0) mismatch('MatMul does not accept scalars');
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const k1 = a2[a2.length - 1];
  const k2 = b2[b2.length - 2];
  if (isKnown(k1) && isKnown(k2) && k1 !== k2) {
    mismatch(`inner dimensions differ: ${formatShape(a)} has ${k1} columns but ${formatShape(b)} has ${k2} rows`);
  }
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)], 'batch dims of');
  if (!batch) return null;
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

function matmul(outDtype?: DataType, aIndex = 0, bIndex = 1, dtypeIndex?: number): ShapeRule {
  return (ctx) => {
    const dtype = outDtype ?? ctx.dtype(dtypeIndex ?? aIndex);
    ctx.set(0, dtype, matmulShape(ctx.shape(aIndex), ctx.shape(bIndex)));
  };
}

interface Term {
  letters: string[];
  ellipsis: number;
}

function parseTerm(term: string): Term {
  const idx = term.indexOf('...');
  const letters = term.replace('...', '.').split('');
  return { letters, ellipsis: idx >= 0 ? letters.indexOf('.') : -1 };
}

/** Einsum output shapes for explicit (`ij,jk->ik`) and implicit (`ij,jk`) equations, with ellipsis broadcasting. */
export function einsumShape(equation: string, shapes: ReadonlyArray<Dim[] | null>): Dim[] | null {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(',').map(parseTerm);
  if (terms.length !== shapes.length) mismatch(`equation '${equation}' names ${terms.length} operands but the node has ${shapes.length}`);
  const sizes = new Map<string, Dim>();
  const counts = new Map<string, number>();
  const ellipsisShapes: Dim[][] = [];
  for (let t = 0; t < terms.length; t++) {
    const term = terms[t];
    const shape = shapes[t];
    if (!shape) return null;
    const named = term.letters.filter((l) => l !== '.').length;
    const ellRank = term.ellipsis >= 0 ? shape.length - named : 0;
    if (ellRank < 0 || (term.ellipsis < 0 && named !== shape.length)) {
      mismatch(`operand ${t} ${formatShape(shape)} does not match term '${lhs.split(',')[t]}'`);
    }
    let axis = 0;
    for (const l of term.letters) {
      if (l === '.') {
        ellipsisShapes.push(shape.slice(axis, axis + ellRank));
        axis += ellRank;
        continue;
      }
      const d = shape[axis++];
      sizes.set(l, sizes.has(l) ? mergeDims(sizes.get(l)!, d, () => `subscript '${l}' in '${equation}'`) : d);
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
  }
  const ell = ellipsisShapes.length > 0 ? broadcastShapes(ellipsisShapes, 'ellipsis dims of') ?? [] : [];
  let outLetters: string[];
  if (arrow >= 0) outLetters = parseTerm(eq.slice(arrow + 2)).letters;
  else {
    outLetters = [...counts.keys()].filter((l) => counts.get(l) === 1).sort();
    if (ellipsisShapes.length > 0) outLetters.unshift('.');
  }
  const out: Dim[] = [];
  for (const l of outLetters) {
    if (l === '.') out.push(...ell);
    else if (!sizes.has(l)) mismatch(`output subscript '${l}' of '${equation}' appears in no operand`);
    else out.push(sizes.get(l)!);
  }
  return out;
}

export const linalgRules: Readonly<Record<string, ShapeRule>> = {
  Gemm: gemm,
  MatMul: matmul(),
  MatMulInteger: matmul('int32'),
  // QLinearMatMul reads a at 0 and b at 3; its output has y_zero_point's type.
  QLinearMatMul: matmul(undefined, 0, 3, 7),
  Einsum: (ctx) => {
    const equation = getString(ctx.node, 'equation', '');
    const shapes = Array.from({ length: ctx.inputCount }, (_, i) => ctx.shape(i));
    ctx.set(0, ctx.dtype(0), einsumShape(equation, shapes));
  },
};
