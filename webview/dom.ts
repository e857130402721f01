/**
 * Safe DOM construction. Every string that came from a model (node names, doc strings, metadata) may contain markup,
 * so the view builds nodes with createElement and sets text with textContent only; nothing here parses HTML. The
 * document is always passed in, so charts stay pure functions that tests can run under jsdom.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';

export type Attrs = Record<string, string | number | boolean | null | undefined>;
export type Child = Node | string | number | null | undefined | false;

function applyAttrs(el: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // Inline style attributes are blocked by the webview's CSP, and event handler attributes would execute text.
    if (key === 'style' || key.startsWith('on')) throw new Error(`refusing to set attribute ${key}`);
    el.setAttribute(key, value === true ? '' : String(value));
  }
}

function appendChildren(doc: Document, el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? doc.createTextNode(String(child)) : child);
  }
}

/** Creates an HTML element; string children become text nodes, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(doc: Document, tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(doc: Document, tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement {
  const el = doc.createElement(tag);
  applyAttrs(el, attrs);
  appendChildren(doc, el, children);
  return el;
}

/** Creates an SVG element in the SVG namespace. */
export function s<K extends keyof SVGElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = doc.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  applyAttrs(el, attrs);
  appendChildren(doc, el, children);
  return el;
}

/** Removes every child of an element. */
export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A CSS-safe class suffix from arbitrary text, for op-family classes. */
export function classToken(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

/** Reads the value of a form control, native or from @vscode-elements/elements, without trusting its type. */
/** Whether a checkbox (a vscode-checkbox or an input) is checked. */
export function checked(el: Element): boolean {
  return (el as unknown as { checked?: unknown }).checked === true;
}

export function controlValue(el: Element): string {
  const value = (el as unknown as { value?: unknown }).value;
  return value === undefined || value === null ? '' : String(value);
}

/**
 * Calls `layout` whenever the element's width changes by a few pixels, so that charts are drawn again for the new width
 * (fixed-size text, more or fewer columns) instead of being scaled like an image. Without ResizeObserver (tests) it
 * does nothing; the first layout is the caller's.
 */
export function onWidthChange(el: HTMLElement, layout: (width: number) => void): void {
  const view = el.ownerDocument.defaultView as (Window & { ResizeObserver?: typeof ResizeObserver }) | null;
  if (!view?.ResizeObserver) return;
  let last = el.clientWidth;
  let pending = false;
  new view.ResizeObserver(() => {
    if (pending) return;
    pending = true;
    view.requestAnimationFrame(() => {
      pending = false;
      const width = el.clientWidth;
      if (width > 0 && Math.abs(width - last) >= 4) {
        last = width;
        layout(width);
      }
    });
  }).observe(el);
}

/** The width to lay a panel's charts out for: the element's own, or `fallback` before it is in a laid-out page. */
export function layoutWidth(el: HTMLElement, fallback: number): number {
  return el.clientWidth > 0 ? el.clientWidth : fallback;
}
