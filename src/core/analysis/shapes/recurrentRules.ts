import type { Dim } from '../../ir/types';
import { getInt, getString } from '../../ir/attributes';
import { divDims, formatShape, isKnown } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule } from './ruleContext';

/**
 * LSTM, GRU and RNN. X is [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1, opset 14). Y is
 * [seq, directions, batch, hidden] or [batch, seq, directions, hidden]; Y_h and Y_c are [directions, batch, hidden] or
 * [batch, directions, hidden].
 */
function recurrent(gates: number, stateOutputs: number): ShapeRule {
  return (ctx) => {
    const x = ctx.shape(0);
    const w = ctx.shape(1);
    const r = ctx.shape(2);
    const dtype = ctx.dtype(0);
    if (x && x.length !== 3) mismatch(`X ${formatShape(x)} must have rank 3`);
    if (w && w.length !== 3) mismatch(`W ${formatShape(w)} must have rank 3`);
    if (r && r.length !== 3) mismatch(`R ${formatShape(r)} must have rank 3`);
    const layout = getInt(ctx.node, 'layout', 0);
    const direction = getString(ctx.node, 'direction', 'forward');
    const dirs = direction === 'bidirectional' ? 2 : 1;
    if (w && isKnown(w[0]) && w[0] !== dirs) mismatch(`W ${formatShape(w)} has ${w[0]} directions but direction is '${direction}'`);
    let hidden: Dim = getInt(ctx.node, 'hidden_size') ?? null;
    if (hidden === null && r) hidden = r[2] ?? null;
    if (hidden === null && w) hidden = divDims(w[1], gates);
    const seq = x ? x[layout === 0 ? 0 : 1] : null;
    const batch = x ? x[layout === 0 ? 1 : 0] : null;
    ctx.set(0, dtype, layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]);
    for (let i = 1; i <= stateOutputs; i++) {
      if (ctx.wants(i)) ctx.set(i, dtype, layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]);
    }
  };
}

export const recurrentRules: Readonly<Record<string, ShapeRule>> = {
  LSTM: recurrent(4, 2),
  GRU: recurrent(3, 1),
  RNN: recurrent(1, 1),
};
