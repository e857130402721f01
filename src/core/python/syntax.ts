import type { Node as TreeSitterNode } from 'web-tree-sitter';

/**
 * The syntax the analysis cache keeps, as plain JavaScript objects. A tree-sitter node lives in wasm memory: every
 * property read crosses into wasm, the node dies with its tree, and its positions are those of the text it was parsed
 * from. A snapshot of one top-level statement has none of these limits: reading it is a property access, it outlives
 * every tree, and its positions are relative to the statement's first line, so that a statement that moved (lines were
 * inserted above it) is the same snapshot with a new `row`.
 */

export interface Point {
  row: number;
  column: number;
}

/** The part of tree-sitter's Node API that the interpreter uses; web-tree-sitter's Node has it too. */
export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly isNamed: boolean;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly children: ReadonlyArray<SyntaxNode | null>;
  readonly namedChildren: ReadonlyArray<SyntaxNode | null>;
  namedChild(index: number): SyntaxNode | null;
  childForFieldName(fieldName: string): SyntaxNode | null;
  childrenForFieldName(fieldName: string): ReadonlyArray<SyntaxNode | null>;
}

/** One top-level statement: its text, where it starts now, and its syntax. */
export class StatementSnapshot {
  /** The 0-based line it starts on in the current version of the file; the analysis cache moves it. */
  row: number;
  /** Statements after a `;` start mid-line: their first line's columns are offset by this. */
  readonly column: number;
  /** Offsets in `text` where each of its lines starts. */
  private readonly lineStarts: number[] = [0];
  readonly node: SnapshotNode;

  constructor(
    readonly text: string,
    start: Point,
    /** Whether tree-sitter found a syntax error inside it. */
    readonly hasError: boolean,
    build: (owner: StatementSnapshot) => SnapshotNode,
  ) {
    this.row = start.row;
    this.column = start.column;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    this.node = build(this);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** The position of an offset into `text`, counted as tree-sitter counts it (rows by '\n', columns in UTF-16 units). */
  point(offset: number): Point {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: this.row + lo, column: offset - this.lineStarts[lo] + (lo === 0 ? this.column : 0) };
  }
}

export class SnapshotNode implements SyntaxNode {
  readonly namedChildren: SnapshotNode[];

  constructor(
    private readonly owner: StatementSnapshot,
    readonly type: string,
    readonly isNamed: boolean,
    /** Offsets into the statement's text. */
    private readonly start: number,
    private readonly end: number,
    readonly children: SnapshotNode[],
    /** The field name of each child, aligned with `children`. */
    private readonly fields: ReadonlyArray<string | null>,
  ) {
    this.namedChildren = children.filter((c) => c.isNamed);
  }

  get text(): string {
    return this.owner.text.slice(this.start, this.end);
  }

  get startPosition(): Point {
    return this.owner.point(this.start);
  }

  get endPosition(): Point {
    return this.owner.point(this.end);
  }

  namedChild(index: number): SnapshotNode | null {
    return this.namedChildren[index] ?? null;
  }

  childForFieldName(fieldName: string): SnapshotNode | null {
    const i = this.fields.indexOf(fieldName);
    return i >= 0 ? this.children[i] : null;
  }

  childrenForFieldName(fieldName: string): SnapshotNode[] {
    return this.children.filter((_, i) => this.fields[i] === fieldName);
  }
}

/**
 * Copies a top-level statement out of its tree. `source` is the text the tree was parsed from; tree-sitter's indices
 * into it are UTF-16 offsets, as JavaScript strings count.
 */
export function snapshotStatement(node: TreeSitterNode, source: string): StatementSnapshot {
  const base = node.startIndex;
  const text = source.slice(base, node.endIndex);
  const build = (owner: StatementSnapshot): SnapshotNode => {
    // A cursor walk reads each node once; Node's own getters would allocate and cross into wasm far more often.
    const cursor = node.walk();
    const visit = (): SnapshotNode => {
      const type = cursor.nodeType;
      const isNamed = cursor.nodeIsNamed;
      const start = cursor.startIndex - base;
      const end = cursor.endIndex - base;
      const children: SnapshotNode[] = [];
      const fields: Array<string | null> = [];
      if (cursor.gotoFirstChild()) {
        do {
          fields.push(cursor.currentFieldName ?? null);
          children.push(visit());
        } while (cursor.gotoNextSibling());
        cursor.gotoParent();
      }
      return new SnapshotNode(owner, type, isNamed, start, end, children, fields);
    };
    try {
      return visit();
    } finally {
      cursor.delete();
    }
  };
  return new StatementSnapshot(text, node.startPosition, node.hasError, build);
}
