/**
 * The image viewer: float32 pixels in R32F textures (one per channel), the screen stretch (STF) in
 * the fragment shader (viewerGl.ts); auto STF from the server's definition (stf.ts), or manual
 * black/midtones/white with the histogram; zoom (wheel) and pan (drag); pixel value under the
 * cursor; FITS header; stars. State lives in viewerHooks.ts, the pieces in ViewerParts.tsx.
 */
import { useState } from 'react';
import { useGlCanvas, useGlDraw, useImage, useStars, useStretch, useViewControls, type Source } from './viewerHooks';
import { HeaderPanel, Histogram, Readout, StarsOverlay, StretchControls, ViewerBar } from './ViewerParts';

export type { Source };

export function Viewer({ source }: { source: Source | null }) {
  const { canvas, gl, glError, size } = useGlCanvas();
  const image = useImage(
    source,
    gl,
    () => {
      controls.setCursor('');
      stars.reset();
    },
    (p) => {
      stretch.setAuto(true);
      controls.fit(p);
    },
  );
  const { px, info, rng, err } = image;
  const stretch = useStretch(px);
  const controls = useViewControls(canvas, size, px);
  const stars = useStars(source, image.setErr);
  const [showHeader, setShowHeader] = useState(false);
  const { view } = controls;
  useGlDraw(canvas, gl, size, px, view, rng, stretch.stfs);

  return (
    <div className="viewer">
      <ViewerBar
        source={source}
        px={px}
        info={info}
        view={view}
        showStars={stars.showStars}
        onFit={() => controls.fit()}
        onOneToOne={controls.oneToOne}
        onStars={stars.toggle}
        onHeader={() => setShowHeader((h) => !h)}
      />
      {(err || glError) && <div className="banner error" data-testid="viewer-error">{glError ?? err}</div>}
      <div className="viewer-main">
        <div className="canvas-wrap" {...controls.handlers}>
          <canvas ref={canvas} id="viewer-canvas" data-testid="viewer-canvas" />
          <StarsOverlay stars={stars.stars} show={stars.showStars} view={view} size={size} />
        </div>
        {showHeader && info && <HeaderPanel info={info} />}
      </div>
      <div className="viewer-foot">
        <Histogram px={px} rng={rng} stfs={stretch.stfs} />
        <StretchControls stretch={stretch} rng={rng} channels={px?.channels ?? 0} />
        <Readout cursor={controls.cursor} info={info} stars={stars.showStars ? stars.stars : null} />
      </div>
    </div>
  );
}
