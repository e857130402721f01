import type { Node } from '../ir/types';
import type { Emitter } from './emitter';

/**
 * What a gradient rule sees: the forward node, the gradient of each of its outputs (undefined where nothing
 * downstream depends on that output), and which inputs need a gradient at all. A rule returns one gradient name per
 * input, or undefined for inputs that need none, and emits its nodes through the emitter.
 */
export interface GradContext {
  readonly e: Emitter;
  readonly node: Node;
  readonly gy: readonly (string | undefined)[];
  readonly needs: readonly boolean[];
  /** A value's statically known contents (shape arithmetic, constant initializers), when small. */
  constant(name: string): number[] | undefined;
  /** Gradient of output `i`, or zeros of its shape when nothing downstream used that output. */
  gradOrZeros(i: number): string;
  /** Throws the builder's "this cannot be differentiated" error, naming the node. */
  unsupported(why: string): never;
}

export type GradRule = (ctx: GradContext) => (string | undefined)[];

/**
 * A gradient rule plus the input positions it can differentiate. Positions outside `diff` are indices, shapes,
 * axes or running statistics; initializers read only there are not parameters. Positions in `constant` must not
 * depend on anything that needs a gradient (a learnable Pow exponent, say), because the rule treats them as fixed.
 */
export interface RuleEntry {
  rule: GradRule;
  diff: number[] | 'all';
  constant?: number[];
}
