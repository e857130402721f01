import type { PaneLayout } from '../src/protocol/messages';
import { h } from './dom';

/**
 * Two panes (the layer table and the graph) with a draggable divider between them. Side by side when the view is wide
 * enough for both; stacked when it is not, because a table squeezed into half of a 700 px editor cuts its names and
 * shapes. Either pane can be maximised. The layout is reported through `onChange` so the host can remember it for the
 * workspace; the view itself keeps nothing.
 */

export type Orientation = 'row' | 'column';

export interface SplitPaneOptions {
  /** Width below which the panes stack instead of sitting side by side. */
  stackBelow?: number;
  initial?: PaneLayout;
  onChange?: (layout: PaneLayout) => void;
}

export const DEFAULT_PANE_LAYOUT: PaneLayout = { ratio: 0.5, maximized: 'none' };
const MIN_RATIO = 0.15;
const MAX_RATIO = 0.85;
const KEY_STEP = 0.05;

export function clampRatio(ratio: number): number {
  return Number.isFinite(ratio) ? Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio)) : DEFAULT_PANE_LAYOUT.ratio;
}

export class SplitPane {
  readonly element: HTMLElement;
  readonly divider: HTMLElement;
  private layoutState: PaneLayout;
  private orientationState: Orientation = 'row';
  private readonly stackBelow: number;

  constructor(
    doc: Document,
    private readonly first: HTMLElement,
    private readonly second: HTMLElement,
    private readonly options: SplitPaneOptions = {},
  ) {
    this.stackBelow = options.stackBelow ?? 1100;
    const initial = options.initial ?? DEFAULT_PANE_LAYOUT;
    this.layoutState = { ratio: clampRatio(initial.ratio), maximized: initial.maximized };
    this.divider = h(doc, 'div', {
      class: 'ls-divider',
      role: 'separator',
      tabindex: 0,
      'aria-label': 'Resize the layer table and the graph (arrow keys; double-click to reset)',
      'aria-valuemin': MIN_RATIO * 100,
      'aria-valuemax': MAX_RATIO * 100,
    });
    this.element = h(doc, 'div', { class: 'ls-split' }, first, this.divider, second);
    this.divider.addEventListener('pointerdown', (e) => this.startDrag(e));
    this.divider.addEventListener('dblclick', () => this.update({ ratio: DEFAULT_PANE_LAYOUT.ratio }));
    this.divider.addEventListener('keydown', (e) => this.onKey(e));
    const view = doc.defaultView as (Window & { ResizeObserver?: typeof ResizeObserver }) | null;
    if (view?.ResizeObserver) {
      new view.ResizeObserver((entries) => {
        const width = entries[entries.length - 1]?.contentRect.width ?? 0;
        if (width > 0) this.setOrientation(width < this.stackBelow ? 'column' : 'row');
      }).observe(this.element);
    }
    this.apply();
  }

  get layout(): PaneLayout {
    return { ...this.layoutState };
  }

  get orientation(): Orientation {
    return this.orientationState;
  }

  /** Maximises a pane, or restores both when that pane is already maximised. */
  toggleMaximized(pane: 'first' | 'second'): void {
    this.update({ maximized: this.layoutState.maximized === pane ? 'none' : pane });
  }

  update(change: Partial<PaneLayout>): void {
    const next: PaneLayout = {
      ratio: clampRatio(change.ratio ?? this.layoutState.ratio),
      maximized: change.maximized ?? this.layoutState.maximized,
    };
    if (next.ratio === this.layoutState.ratio && next.maximized === this.layoutState.maximized) return;
    this.layoutState = next;
    this.apply();
    this.options.onChange?.(this.layout);
  }

  setOrientation(orientation: Orientation): void {
    if (orientation === this.orientationState) return;
    this.orientationState = orientation;
    this.apply();
  }

  private apply(): void {
    const { ratio, maximized } = this.layoutState;
    this.element.setAttribute('data-orientation', this.orientationState);
    this.element.setAttribute('data-maximized', maximized);
    this.divider.setAttribute('aria-orientation', this.orientationState === 'row' ? 'vertical' : 'horizontal');
    this.divider.setAttribute('aria-valuenow', String(Math.round(ratio * 100)));
    this.divider.hidden = maximized !== 'none';
    this.first.hidden = maximized === 'second';
    this.second.hidden = maximized === 'first';
    // Element.style through the CSSOM is allowed by the webview's CSP (only style attributes in markup are not).
    this.first.style.flex = maximized === 'first' ? '1 1 0' : `${ratio} 1 0`;
    this.second.style.flex = maximized === 'second' ? '1 1 0' : `${1 - ratio} 1 0`;
  }

  private startDrag(e: PointerEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    const box = this.element.getBoundingClientRect();
    const size = this.orientationState === 'row' ? box.width : box.height;
    if (size <= 0) return;
    this.divider.setPointerCapture?.(e.pointerId);
    this.divider.classList.add('ls-dragging');
    const move = (ev: PointerEvent): void => {
      const offset = this.orientationState === 'row' ? ev.clientX - box.left : ev.clientY - box.top;
      this.update({ ratio: offset / size });
    };
    const end = (ev: PointerEvent): void => {
      this.divider.releasePointerCapture?.(ev.pointerId);
      this.divider.classList.remove('ls-dragging');
      this.divider.removeEventListener('pointermove', move);
      this.divider.removeEventListener('pointerup', end);
      this.divider.removeEventListener('pointercancel', end);
    };
    this.divider.addEventListener('pointermove', move);
    this.divider.addEventListener('pointerup', end);
    this.divider.addEventListener('pointercancel', end);
  }

  private onKey(e: KeyboardEvent): void {
    const back = this.orientationState === 'row' ? 'ArrowLeft' : 'ArrowUp';
    const forward = this.orientationState === 'row' ? 'ArrowRight' : 'ArrowDown';
    let ratio: number | null = null;
    if (e.key === back) ratio = this.layoutState.ratio - KEY_STEP;
    else if (e.key === forward) ratio = this.layoutState.ratio + KEY_STEP;
    else if (e.key === 'Home') ratio = MIN_RATIO;
    else if (e.key === 'End') ratio = MAX_RATIO;
    if (ratio === null) return;
    e.preventDefault();
    this.update({ ratio });
  }
}
