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
  /** Set for a position in another file (an imported module): never shown as a line of the file analysed. */
  file?: string;
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
  /**
   * For a user class that derives from a torch.nn layer (`class LayerNorm2d(nn.LayerNorm)`): the layer type whose
   * constructor `super().__init__(…)` ran, whose parameters are then in `own` and whose arguments are in `args`.
   */
  torchType?: string;
  /**
   * Parameters of this layer replaced after construction, by name: with another layer's parameter (weight tying,
   * `self.head.weight = self.emb.weight`), with a new `nn.Parameter` layer, or removed (`None`).
   */
  replaced?: Map<string, ParamRef | LayerValue | null>;
  /** Own parameters whose requires_grad was turned off: `*` for all of them. */
  frozen?: Set<string>;
  /** An object of a plain (non-module) user class: it has attributes, and is never counted as a module. */
  plain?: boolean;
}

/** One parameter of one layer, as `layer.weight` names it; identity is what weight tying shares. */
export interface ParamRef {
  owner: LayerValue;
  /** The parameter's own name (`weight`), or `*` for every own parameter of the owner. */
  name: string;
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
  /** The module scope the class was defined in, when it is another file's. */
  globals?: Map<string, Value>;
}

export interface TensorValue {
  kind: 'tensor';
  shape: Dim[] | null;
  /** The IR value name when the forward pass is being lowered. */
  irName?: string;
  /** When the last dim came from flattening, the factors it came from (for mismatch messages such as 15×2×2). */
  factors?: number[];
  /** Set when this tensor is a module's parameter (`self.fc.weight`, an item of `model.parameters()`). */
  param?: ParamRef;
  /** The element type when it is known (`float32`, `int64`, `bool`); buffers are counted only when it is. */
  dtype?: string;
  /**
   * How it was filled, where that is a constant (torch.zeros, ones, full) or a scaled draw (torch.randn · std,
   * torch.rand · (high − low) + low), so that an nn.Parameter made from it starts as PyTorch's does when the model is
   * lowered.
   */
  fill?: TensorFill;
}

export type TensorFill = { constant: number } | { normal: number } | { uniform: [number, number] };

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
  | FuncValue
  /** A Python module read from another file (imports.ts): its names are read when they are used. */
  | { kind: 'module'; name: string; file: string }
  /** `functools.partial(fn, *args, **kwargs)`: calling it calls `fn` with these arguments first. */
  | { kind: 'partial'; fn: Value; positional: Value[]; keywords: Map<string, Value> }
  /** A method of a built-in value, such as `layers.append`. */
  | { kind: 'method'; name: string; target: Value }
  /** `super()` inside a method. */
  | { kind: 'super'; self: LayerValue; cls: ClassValue };

/** A user function (module-level def or method); `binding` says what a method binds as its first argument. */
export interface FuncValue {
  kind: 'func';
  name: string;
  node: unknown;
  self?: LayerValue;
  cls?: ClassValue;
  /** `@staticmethod` binds nothing, `@classmethod` binds the class; plain methods bind the instance. */
  binding?: 'static' | 'class';
  /** The class a classmethod was reached through. */
  boundClass?: ClassValue;
  /** The module scope the function was defined in, when it is another file's. */
  globals?: Map<string, Value>;
}

export function unknown(reason: string, maybeModule = false): Value {
  return { kind: 'unknown', reason, maybeModule };
}

export function num(value: number, isInt = Number.isInteger(value)): Value {
  return { kind: 'num', value, isInt };
}

export function isInt(v: Value | undefined): v is { kind: 'num'; value: number; isInt: true } {
  return v !== undefined && v.kind === 'num' && v.isInt;
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

export { formatCount } from '../format';
