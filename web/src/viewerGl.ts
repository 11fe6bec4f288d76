/**
 * The viewer's WebGL2 side: float32 pixels in R32F textures (one per channel) and the screen
 * stretch (STF) in the fragment shader, with the same MTF as src/render/mtf.ts.
 */
import type { Pixels } from './api';
import type { Range, Stf } from './stf';

/** Zoom (screen pixels per image pixel) and the image coordinates of the top-left screen corner. */
export interface View {
  scale: number;
  ox: number;
  oy: number;
}

export interface Size {
  w: number;
  h: number;
}

const VS = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const FS = `#version 300 es
precision highp float;
precision highp sampler2D;
uniform sampler2D t0, t1, t2;
uniform vec2 uView, uOffset, uSize;
uniform float uScale, uLow, uSpan;
uniform vec3 uC0, uM, uC1;
uniform int uColor;
out vec4 outColor;
float mtf(float m, float x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  return ((m - 1.0) * x) / ((2.0 * m - 1.0) * x - m);
}
float stretch(float v, float c0, float m, float c1) {
  if (v != v) return 0.0;
  float x = (v - uLow) / uSpan;
  x = clamp((x - c0) / max(c1 - c0, 1e-9), 0.0, 1.0);
  return mtf(m, x);
}
void main() {
  vec2 screen = vec2(gl_FragCoord.x, uView.y - gl_FragCoord.y);
  vec2 img = uOffset + screen / uScale;
  if (img.x < 0.0 || img.y < 0.0 || img.x >= uSize.x || img.y >= uSize.y) { outColor = vec4(0.04, 0.04, 0.05, 1.0); return; }
  ivec2 p = ivec2(floor(img));
  float r = stretch(texelFetch(t0, p, 0).r, uC0.r, uM.r, uC1.r);
  if (uColor == 0) { outColor = vec4(r, r, r, 1.0); return; }
  float g = stretch(texelFetch(t1, p, 0).r, uC0.g, uM.g, uC1.g);
  float b = stretch(texelFetch(t2, p, 0).r, uC0.b, uM.b, uC1.b);
  outColor = vec4(r, g, b, 1.0);
}`;

export interface Gl {
  gl: WebGL2RenderingContext;
  prog: WebGLProgram;
  tex: WebGLTexture[];
  u: Record<string, WebGLUniformLocation | null>;
}

/** Compile the program and make the three textures; a message when WebGL2 or linking fails. */
export function initGl(canvas: HTMLCanvasElement): Gl | string {
  const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false });
  if (!gl) return 'WebGL2 is not available in this browser';
  const sh = (type: number, src: string): WebGLShader => {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'shader');
    return s;
  };
  const prog = gl.createProgram()!;
  gl.attachShader(prog, sh(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) return gl.getProgramInfoLog(prog) ?? 'link failed';
  const u: Gl['u'] = {};
  for (const n of ['t0', 't1', 't2', 'uView', 'uOffset', 'uSize', 'uScale', 'uLow', 'uSpan', 'uC0', 'uM', 'uC1', 'uColor']) u[n] = gl.getUniformLocation(prog, n);
  const tex = [0, 1, 2].map(() => gl.createTexture()!);
  return { gl, prog, tex, u };
}

/** Upload the planes as R32F textures (a mono image fills all three). */
export function upload(g: Gl, px: Pixels): void {
  const { gl } = g;
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  for (let c = 0; c < 3; c++) {
    gl.activeTexture(gl.TEXTURE0 + c);
    gl.bindTexture(gl.TEXTURE_2D, g.tex[c]!);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const plane = px.planes[Math.min(c, px.channels - 1)]!;
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, px.width, px.height, 0, gl.RED, gl.FLOAT, plane);
  }
}

export interface Frame {
  size: Size;
  px: Pixels | null;
  view: View;
  rng: Range;
  stfs: Stf[];
}

/** Resize the canvas to `size` and draw the stretched image (background only without pixels). */
export function drawGl(g: Gl, canvas: HTMLCanvasElement, { size, px, view, rng, stfs }: Frame): void {
  canvas.width = size.w;
  canvas.height = size.h;
  const { gl, u } = g;
  gl.viewport(0, 0, size.w, size.h);
  gl.clearColor(0.04, 0.04, 0.05, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  if (!px) return;
  gl.useProgram(g.prog);
  gl.uniform1i(u.t0!, 0);
  gl.uniform1i(u.t1!, 1);
  gl.uniform1i(u.t2!, 2);
  gl.uniform2f(u.uView!, size.w, size.h);
  gl.uniform2f(u.uOffset!, view.ox, view.oy);
  gl.uniform2f(u.uSize!, px.width, px.height);
  gl.uniform1f(u.uScale!, view.scale);
  gl.uniform1f(u.uLow!, rng.low);
  gl.uniform1f(u.uSpan!, rng.high - rng.low);
  const s = (i: number): Stf => stfs[Math.min(i, stfs.length - 1)]!;
  gl.uniform3f(u.uC0!, s(0).c0, s(1).c0, s(2).c0);
  gl.uniform3f(u.uM!, s(0).m, s(1).m, s(2).m);
  gl.uniform3f(u.uC1!, s(0).c1, s(1).c1, s(2).c1);
  gl.uniform1i(u.uColor!, px.channels >= 3 ? 1 : 0);
  gl.drawArrays(gl.TRIANGLES, 0, 3);
}
