import type { Dim } from '../ir/types';
import { importedTrees } from './imports';
import type { RfState, ShapedTensor } from './layerShapes';
import type { SyntaxNode } from './syntax';
import type { LayerValue, SourceRange, TensorFill, Value } from './values';

/**
 * What the static interpreter reports as it runs, shared by the interpreter, the lowering (lowerContext.ts, lower.ts),
 * the analysis cache and the rebaser: diagnostics, layer traces, the emitter that lowering plugs in and the observer
 * that the cache plugs in. Kept apart so that none of them imports another for its types.
 */


export interface Diagnostic {
  range: SourceRange;
  message: string;
}

/** What happened when a layer was applied in a forward pass: the data that lenses and hovers show. */
export interface LayerTrace {
  layer: LayerValue;
  input: Dim[] | null;
  output: Dim[] | null;
  sizeFormula?: string;
  /** Why part of the output shape is unknown although the input's shape is known. */
  unknownBecause?: string;
  macs: number | null;
  rf?: RfState;
  /** How many times the layer ran in the pass (absent: once), and the MACs of all those calls together. */
  calls?: number;
  totalMacs?: number | null;
}

/** One call of a torch.nn layer in a forward pass. */
export interface LayerCall {
  /** The forward's arguments under PyTorch's names, with its defaults for those not given (layers.ts, bindForwardArgs). */
  args: ReadonlyMap<string, Value>;
  /** The call in the source, which messages about its arguments name. */
  range: SourceRange;
}

/** Receives each applied layer and functional op while `forward` runs, so that lowering can emit IR nodes. */
export interface ForwardEmitter {
  layer(layer: LayerValue, call: LayerCall, output: ShapedTensor): string | null;
  op(name: string, inputs: ShapedTensor[], output: ShapedTensor, args: Value[], keywords: Map<string, Value>, range: SourceRange): string | null;
  /** An nn.Parameter that forward reads as a tensor (`self.cls_token`): its graph value, made once per Parameter. */
  parameter?(param: LayerValue, dims: number[], fill: TensorFill | undefined): string | null;
  /** A user module's forward starts and ends: the ops it emits between them belong to that module (their names say so). */
  enterModule?(layer: LayerValue): void;
  exitModule?(layer: LayerValue): void;
}

/**
 * Told what each run reads and writes outside its own frames, so that the analysis cache knows what a result
 * depends on and when it may be reused (analysisCache.ts).
 */
export interface ScopeObserver {
  /** A module-level name was looked up; `value` is undefined when nothing was bound to it. */
  readGlobal(name: string, value: Value | undefined): void;
  /** A module-level name was bound. */
  wroteGlobal(name: string, value: Value): void;
  /** A class-level attribute was read, through the class or an instance. */
  readClassAttr(value: Value): void;
  /** A message now names this 0-based line, so that moving the line changes the message. */
  citedLine(row: number): void;
  traced(trace: LayerTrace): void;
}

/** Thrown by an observer to abandon the whole run: neither the interpreter nor the analysis catches it. */
export class RunAbandoned extends Error {}

export function rangeOf(n: SyntaxNode): SourceRange {
  const file = importedTrees.get((n as { tree?: object }).tree ?? n);
  return { line: n.startPosition.row, column: n.startPosition.column, endLine: n.endPosition.row, endColumn: n.endPosition.column, ...(file ? { file } : {}) };
}
