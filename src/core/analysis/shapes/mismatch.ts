/**
 * A shape rule throws ShapeMismatch when a node's inputs cannot be combined the way its operator requires (a Reshape
 * whose element counts differ, MatMul inner dimensions that disagree). The driver turns it into a 'shape-mismatch'
 * warning and marks the node's outputs unknown, so one malformed node never stops the analysis of the rest.
 */
export class ShapeMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeMismatch';
  }
}

/** Throws a ShapeMismatch; typed `never` so that rules can use it in expressions. */
export function mismatch(message: string): never {
  throw new ShapeMismatch(message);
}
