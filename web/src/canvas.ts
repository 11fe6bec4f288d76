/** A 2D canvas redrawn when its inputs change: cleared to the panel background, then `draw`. */
import { useEffect, useRef, type DependencyList, type RefObject } from 'react';

export const CANVAS_BACKGROUND = '#0b0b0e';

/**
 * Returns the ref to put on a <canvas>; after each render where `deps` changed, the canvas is
 * filled with the background and `draw(ctx, width, height)` paints on it.
 */
export function useCanvas2d(draw: (ctx: CanvasRenderingContext2D, w: number, h: number) => void, deps: DependencyList): RefObject<HTMLCanvasElement | null> {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = CANVAS_BACKGROUND;
    ctx.fillRect(0, 0, c.width, c.height);
    draw(ctx, c.width, c.height);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}
