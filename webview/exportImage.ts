/**
 * Rasterises an exported SVG to PNG in the webview, so the host only has to ask where to save it. The SVG is loaded
 * as a data: image (allowed by the CSP's img-src) and drawn on a canvas no larger than browsers accept.
 */
export const MAX_CANVAS_SIDE = 16384;

/** The scale at which a drawing fits the canvas limits, at most `preferred`. */
export function pngScale(width: number, height: number, preferred = 2): number {
  const limit = Math.min(MAX_CANVAS_SIDE / Math.max(1, width), MAX_CANVAS_SIDE / Math.max(1, height));
  // Browsers also cap the total area; 2^28 pixels is a safe common bound.
  const area = Math.sqrt(268_435_456 / Math.max(1, width * height));
  return Math.max(0.01, Math.min(preferred, limit, area));
}

/** Returns the PNG as base64 without the data: prefix. */
export function svgToPngBase64(doc: Document, svg: string, width: number, height: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const view = doc.defaultView;
    if (!view) {
      reject(new Error('no window to render in'));
      return;
    }
    const scale = pngScale(width, height);
    const image = new view.Image();
    image.onload = () => {
      try {
        const canvas = doc.createElement('canvas');
        canvas.width = Math.max(1, Math.round(width * scale));
        canvas.height = Math.max(1, Math.round(height * scale));
        const context = canvas.getContext('2d');
        if (!context) throw new Error('canvas 2D context is unavailable');
        context.scale(scale, scale);
        context.drawImage(image, 0, 0, width, height);
        const url = canvas.toDataURL('image/png');
        resolve(url.slice(url.indexOf(',') + 1));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    image.onerror = () => reject(new Error('the browser could not render the SVG'));
    const bytes = new TextEncoder().encode(svg);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    image.src = `data:image/svg+xml;base64,${view.btoa(binary)}`;
  });
}
