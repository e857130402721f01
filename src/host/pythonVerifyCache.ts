import { createHash } from 'node:crypto';
import type { ExactResult, ExactTarget, LensCheck } from '../core/python/exact';

/**
 * What "Verify with Python" remembers, without 'vscode' so that it is unit-tested: PyTorch's results by file content,
 * interpreter, target and input shape (so that verifying an unchanged file again costs nothing), and per document
 * the lens checks of its last verification, which apply only while the document's text is the text verified.
 */

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface VerifyKey {
  content: string;
  python: string;
  target: ExactTarget;
  inputShape: number[] | null;
}

function keyOf(k: VerifyKey): string {
  return JSON.stringify([contentHash(k.content), k.python, k.target, k.inputShape]);
}

/** Results by key, the least recently used dropped beyond `capacity`. */
export class ExactResultCache {
  private readonly entries = new Map<string, ExactResult>();

  constructor(private readonly capacity = 32) {}

  get(key: VerifyKey): ExactResult | undefined {
    const k = keyOf(key);
    const hit = this.entries.get(k);
    if (hit) {
      this.entries.delete(k);
      this.entries.set(k, hit);
    }
    return hit;
  }

  set(key: VerifyKey, result: ExactResult): void {
    const k = keyOf(key);
    this.entries.delete(k);
    this.entries.set(k, result);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

interface Verified {
  hash: string;
  /** Checks of every model verified in this text, newest last. */
  checks: LensCheck[];
  /** The class names verified in this text, for re-verifying on save. */
  names: string[];
}

/** The lens checks of each document's last verified text. */
export class VerifiedDocuments {
  private readonly docs = new Map<string, Verified>();

  /** Records a verification of `name` in `text`; checks of other models in the same text are kept. */
  record(key: string, text: string, name: string, checks: LensCheck[]): void {
    const hash = contentHash(text);
    const previous = this.docs.get(key);
    const kept = previous && previous.hash === hash ? previous : { hash, checks: [], names: [] };
    const lines = new Set(checks.map((c) => lensKey(c.line, c.kind)));
    kept.checks = [...kept.checks.filter((c) => !lines.has(lensKey(c.line, c.kind))), ...checks];
    kept.names = [...kept.names.filter((n) => n !== name), name];
    this.docs.set(key, kept);
  }

  /** Every check of the verified text, or none once the text has changed. */
  checks(key: string, text: string): LensCheck[] {
    const v = this.docs.get(key);
    return v && v.hash === contentHash(text) ? v.checks : [];
  }

  /** The checks by lens (`line:kind`), hashing the text once for all the lenses of a document. */
  lookup(key: string, text: string): Map<string, LensCheck> {
    return new Map(this.checks(key, text).map((c) => [lensKey(c.line, c.kind), c]));
  }

  names(key: string): string[] {
    return this.docs.get(key)?.names ?? [];
  }

  forget(key: string): void {
    this.docs.delete(key);
  }
}

export function lensKey(line: number, kind: LensCheck['kind']): string {
  return `${line}:${kind}`;
}
