import type { Dim } from '../ir/types';

/**
 * The values the static interpreter works with. Python code is evaluated only as far as it can be known without
 * running it: numbers, strings, tuples, the torch.nn layers being built and the tensors flowing through `forward`.
 * Everything else is `unknown` with a reason, so that a number is either right or visibly missing.
 */

/** A 0-based source range, as tree-sitter reports it. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ParamCount {
  params: number;
  trainable: number;
  /** Running statistics and other buffers that the exported graph keeps as initializers. */
  buffers: number;
}

/** One layer (torch.nn module, container or user Module) as built by a constructor call. */
export interface LayerValue {
  kind: 'layer';
  /** The class name: 'Conv2d', 'Sequential', or the user's class name. */
  type: string;
  category: 'torch' | 'container' | 'user';
  /** Bound constructor arguments by PyTorch's parameter names, defaults filled in (torch layers only). */
  args: Map<string, Value>;
  /** Sub-modules in registration order (containers and user classes). */
  children: Array<[string, LayerValue]>;
  /** Own parameters (torch layers) or null when an argument could not be resolved. */
  own: ParamCount | null;
  /** Why `own` (or a child's) is unknown, or why the layer may be incomplete. */
  reason?: string;
  /** The formula with the numbers filled in, for the hover. */
  formula?: string;
  range: SourceRange;
  /** For user classes: the instance's attributes (`self.x`), which forward reads. */
  attrs?: Map<string, Value>;
  classRef?: ClassValue;
  /** Set when the constructor did something the interpreter could not follow that may have created sub-modules. */
  incomplete?: string;
  /** Module path as PyTorch names it (`features.0`), filled when the tree is named. */
  path?: string;
}

/** A user class definition (any class; `isModule` when it derives from nn.Module). */
export interface ClassValue {
  kind: 'class';
  name: string;
  /** The tree-sitter class_definition node; typed loosely to keep this file free of the parser's types. */
  node: unknown;
  bases: Value[];
  isModule: boolean;
  /** Class-level constants such as `expansion = 4`. */
  attrs: Map<string, Value>;
  range: SourceRange;
}

export interface TensorValue {
  kind: 'tensor';
  shape: Dim[] | null;
  /** The IR value name when the forward pass is being lowered. */
  irName?: string;
  /** When the last dim came from flattening, the factors it came from (for mismatch messages such as 15×2×2). */
  factors?: number[];
}

export type Value =
  | { kind: 'num'; value: number; isInt: boolean }
  | { kind: 'str'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'none' }
  | { kind: 'seq'; items: Value[]; tuple: boolean }
  | { kind: 'dict'; entries: Array<[Value, Value]> }
  | { kind: 'unknown'; reason: string; maybeModule: boolean }
  | LayerValue
  | ClassValue
  | TensorValue
  /** A torch.nn (or torch / torch.nn.functional) name such as 'nn.Conv2d' or 'F.relu'. */
  | { kind: 'torchRef'; path: string }
  /** A user function (module-level def or method bound to `self`). */
  | { kind: 'func'; name: string; node: unknown; self?: LayerValue; cls?: ClassValue }
  /** A method of a built-in value, such as `layers.append`. */
  | { kind: 'method'; name: string; target: Value }
  /** `super()` inside a method. */
  | { kind: 'super'; self: LayerValue; cls: ClassValue };

export function unknown(reason: string, maybeModule = false): Value {
  return { kind: 'unknown', reason, maybeModule };
}

export function num(value: number, isInt = Number.isInteger(value)): Value {
  return { kind: 'num', value, isInt };
}

export function isInt(v: Value | undefined): v is { kind: 'num'; value: number; isInt: true } {
  return v !== undefined && v.kind === 'num' && v.isInt;
}

/** Total parameters of a layer tree, or null when any part is unknown. */
export function totalParams(layer: LayerValue): ParamCount | null {
  if (layer.incomplete) return null;
  let params = 0;
  let trainable = 0;
  let buffers = 0;
  if (layer.category === 'torch') {
    if (!layer.own) return null;
    params += layer.own.params;
    trainable += layer.own.trainable;
    buffers += layer.own.buffers;
  } else if (layer.own) {
    params += layer.own.params;
    trainable += layer.own.trainable;
    buffers += layer.own.buffers;
  }
  for (const [, child] of layer.children) {
    const c = totalParams(child);
    if (!c) return null;
    params += c.params;
    trainable += c.trainable;
    buffers += c.buffers;
  }
  return { params, trainable, buffers };
}

/** The first reason found in a tree for an unknown count. */
export function unknownReason(layer: LayerValue): string | undefined {
  if (layer.incomplete) return layer.incomplete;
  if (layer.category === 'torch' && !layer.own) return layer.reason ?? 'unknown';
  for (const [, child] of layer.children) {
    const r = unknownReason(child);
    if (r) return r;
  }
  return undefined;
}

export function describe(v: Value): string {
  switch (v.kind) {
    case 'num':
      return String(v.value);
    case 'str':
      return JSON.stringify(v.value);
    case 'bool':
      return v.value ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'seq':
      return `(${v.items.map(describe).join(', ')})`;
    case 'layer':
      return v.type;
    default:
      return v.kind;
  }
}

/** 1234567 → "1,234,567", as toLocaleString('en-US') writes integers, without its cost. */
export function formatCount(n: number): string {
  if (!Number.isInteger(n)) return n.toLocaleString('en-US');
  const neg = n < 0;
  const digits = String(Math.abs(n));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return neg ? `-${out}` : out;
}
