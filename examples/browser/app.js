// The example page: loads a model exported by `netspec export` (a tfjs GraphModel, or a LayersModel with its
// layers.js), classifies netspec's test digits and a digit drawn on the pad, on the backend picked on the page.
// Everything the page computed is also on `window.netspecExample`, which the browser test reads.

const tf = globalThis.tf;
const params = new URLSearchParams(location.search);
const MODEL_URL = new URL(params.get('model') ?? 'assets/model/model.json', location.href).href;
const DIGITS_URL = new URL(params.get('digits') ?? 'assets/digits.json', location.href).href;
const BACKENDS = ['webgl', 'webgpu', 'wasm', 'cpu'];

/** What the page shows, as data: the test reads it, and so can a developer in the console. */
const state = {
  /** loading | ready | error */
  state: 'loading',
  backend: null,
  /** webgpu: {vendor, architecture, device, description, software}; webgl: {renderer, software}. */
  adapter: null,
  model: null,
  /** {labels, logits: number[][], predictions} for the test digits. */
  digits: null,
  /** {logits, prediction} for the drawn digit. */
  drawn: null,
  error: null,
};
globalThis.netspecExample = state;

const $ = (id) => document.getElementById(id);

// The wasm binaries come from the same server (no CDN); must be set before the backend first starts.
(tf.setWasmPaths ?? tf.wasm?.setWasmPaths)?.(new URL('vendor/tfjs-backend-wasm/', location.href).href);

let model = null;
let digits = null;
let inputShape = null;

// One thing at a time: a backend switch and a prediction of the drawing never interleave.
let queue = Promise.resolve();
const serially = (job) => (queue = queue.then(job, job));

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

function setState(name) {
  state.state = name;
  document.body.dataset.state = name;
}

function fail(error) {
  state.error = String(error?.message ?? error);
  setState('error');
  setStatus(state.error, true);
}

// ---- the model ----

/** Loads model.json as the format it declares; a LayersModel's custom layers come from its layers.js. */
async function loadModel(url) {
  const response = await fetch(url);
  if (!response.ok)
    throw new Error(`cannot load ${url}: HTTP ${response.status} (run serve.ts to export a model)`);
  const json = await response.json();
  if (json.format === 'graph-model') return { model: await tf.loadGraphModel(url), format: 'tfjs-graph' };
  await registerLayersOnce(new URL('layers.js', url).href);
  return { model: await tf.loadLayersModel(url), format: 'tfjs-layers' };
}

let layersRegistered = false;
async function registerLayersOnce(url) {
  if (layersRegistered) return;
  const head = await fetch(url, { method: 'HEAD' });
  if (head.ok) {
    const { registerLayers } = await import(url);
    registerLayers(tf);
  }
  layersRegistered = true;
}

/** [channels, height, width] of the model's input (NCHW, as in the spec). */
function modelInputShape(m) {
  const shape = m.inputs[0].shape;
  if (shape.length !== 4)
    throw new Error(`the model takes input [${shape.join(', ')}]; expected [N, C, H, W]`);
  return shape.slice(1);
}

/** Logits of a batch, one row per sample; reads back asynchronously (webgpu has no synchronous read). */
async function logitsOf(inputs, shape) {
  const y = tf.tidy(() => model.predict(tf.tensor(inputs, shape, 'float32')));
  try {
    const data = await y.data();
    const classes = y.shape[1];
    return Array.from({ length: shape[0] }, (_, i) =>
      Array.from(data.subarray(i * classes, (i + 1) * classes)),
    );
  } finally {
    y.dispose();
  }
}

const argmax = (row) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

function softmax(row) {
  const top = Math.max(...row);
  const e = row.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

// ---- backends ----

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

/** The adapter tfjs's webgpu backend asks for (same power preference), as the browser describes it. */
async function webgpuAdapter() {
  const lowPower = tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU');
  const adapter = await navigator.gpu?.requestAdapter({
    powerPreference: lowPower ? 'low-power' : 'high-performance',
  });
  if (!adapter) return null;
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  const fields = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return { ...fields, software: fallback || SOFTWARE.test(Object.values(fields).join(' ')) };
}

/** The GL renderer behind tfjs's webgl backend (ANGLE names the real device in it). */
function webglRenderer() {
  const gl = tf.backend().gpgpu?.gl;
  if (!gl) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return { renderer, software: SOFTWARE.test(renderer) };
}

function describeAdapter(name, adapter) {
  if (name === 'webgpu' && adapter) {
    const parts = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean);
    return `WebGPU adapter: ${parts.join(' · ') || 'no details given'}${adapter.software ? ' (software: not a GPU)' : ''}`;
  }
  if (name === 'webgl' && adapter)
    return `WebGL renderer: ${adapter.renderer}${adapter.software ? ' (software: not a GPU)' : ''}`;
  if (name === 'wasm') return 'WebAssembly on the CPU';
  if (name === 'cpu') return 'plain JavaScript on the CPU';
  return '';
}

/** Switches tfjs to `name`, reloads the model there and classifies everything again. */
async function useBackend(name) {
  setState('loading');
  setStatus(`starting ${name}…`);
  let ok = false;
  let reason = '';
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    reason = String(e?.message ?? e);
  }
  if (!ok) {
    setStatus(`${name} is not available in this browser${reason ? `: ${reason}` : ''}`, true);
    if (state.backend) $('backend').value = state.backend;
    setState(state.backend ? 'ready' : 'error');
    state.error = `${name} unavailable`;
    return;
  }
  await tf.ready();
  state.backend = tf.getBackend();
  state.adapter = name === 'webgpu' ? await webgpuAdapter() : name === 'webgl' ? webglRenderer() : null;
  $('backend-active').textContent = state.backend;
  $('adapter').textContent = describeAdapter(name, state.adapter);
  $('backend').value = state.backend;
  const url = new URL(location.href);
  url.searchParams.set('backend', state.backend);
  history.replaceState(null, '', url);

  model?.dispose();
  const loaded = await loadModel(MODEL_URL);
  model = loaded.model;
  inputShape = modelInputShape(model);
  state.model = { url: MODEL_URL, format: loaded.format, inputShape };
  $('model-info').textContent = `${loaded.format} model from ${MODEL_URL}, input [${inputShape.join(', ')}]`;
  await classifyDigits();
  if (hasInk) await classifyDrawing();
  state.error = null;
  setStatus(`ready on ${state.backend}`);
  setState('ready');
}

// ---- the test digits ----

async function loadDigits(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  const meta = await response.json();
  const bin = await fetch(new URL(meta.inputs, url));
  if (!bin.ok) throw new Error(`cannot load ${meta.inputs}: HTTP ${bin.status}`);
  const inputs = new Float32Array(await bin.arrayBuffer());
  const size = meta.shape.reduce((a, b) => a * b, 1);
  if (inputs.length !== size)
    throw new Error(`${meta.inputs} holds ${inputs.length} floats, expected ${size}`);
  return { ...meta, inputs };
}

/** A model input (normalized) back to gray pixels, for the thumbnails. */
function paintInput(canvas, values, width, height, mean, std) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(Math.min(1, Math.max(0, values[i] * std + mean)) * 255);
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

function showDigits() {
  const [n, , h, w] = digits.shape;
  $('digits-info').textContent = digits.description;
  const grid = $('digits');
  grid.replaceChildren();
  for (let i = 0; i < n; i++) {
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    paintInput(canvas, digits.inputs.subarray(i * h * w, (i + 1) * h * w), w, h, digits.mean, digits.std);
    const caption = document.createElement('figcaption');
    caption.textContent = `label ${digits.labels[i]}`;
    figure.append(canvas, caption);
    grid.append(figure);
  }
}

async function classifyDigits() {
  const [, c, h, w] = digits.shape;
  if (c !== inputShape[0] || h !== inputShape[1] || w !== inputShape[2])
    throw new Error(`the digits are [${digits.shape.slice(1)}], the model takes [${inputShape}]`);
  const logits = await logitsOf(digits.inputs, digits.shape);
  const predictions = logits.map(argmax);
  state.digits = { labels: digits.labels, logits, predictions };
  let correct = 0;
  [...$('digits').children].forEach((figure, i) => {
    const right = predictions[i] === digits.labels[i];
    correct += right ? 1 : 0;
    figure.querySelector('figcaption').textContent = `label ${digits.labels[i]} → ${predictions[i]}`;
    figure.classList.toggle('wrong', !right);
  });
  $('digits-summary').textContent = `${correct} of ${predictions.length} correct on ${state.backend}`;
}

// ---- the drawing pad ----

const pad = $('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true });
let hasInk = false;

function clearPad() {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
  hasInk = false;
  state.drawn = null;
  $('pad-input').getContext('2d').clearRect(0, 0, $('pad-input').width, $('pad-input').height);
  $('drawn-prediction').textContent = 'Draw a digit with the mouse or a finger.';
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

let last = null;
pad.addEventListener('pointerdown', (event) => {
  pad.setPointerCapture(event.pointerId);
  last = padPoint(event);
  stroke(last, last);
});
pad.addEventListener('pointermove', (event) => {
  if (!last) return;
  const next = padPoint(event);
  stroke(last, next);
  last = next;
});
const endStroke = () => {
  if (!last) return;
  last = null;
  serially(() => classifyDrawing().catch(fail));
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('clear').addEventListener('click', () => serially(async () => clearPad()));

function stroke([x0, y0], [x1, y1]) {
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = pad.width / 12;
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(x0, y0);
  padCtx.lineTo(x1, y1);
  padCtx.stroke();
  hasInk = true;
}

/**
 * The drawing as MNIST frames its digits (the ink's box scaled into 20x20, its centre of mass at the centre of a
 * 28x28 field), then resized to the model's input and normalized like the test digits; undefined when empty.
 */
function drawnInput([, height, width]) {
  const { data } = padCtx.getImageData(0, 0, pad.width, pad.height);
  let [x0, y0, x1, y1] = [pad.width, pad.height, -1, -1];
  for (let y = 0; y < pad.height; y++)
    for (let x = 0; x < pad.width; x++)
      if (data[(y * pad.width + x) * 4] > 0)
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  if (x1 < 0) return undefined;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = 20 / Math.max(bw, bh);
  const field = document.createElement('canvas');
  field.width = field.height = 28;
  const fieldCtx = field.getContext('2d', { willReadFrequently: true });
  const place = (dx, dy) => {
    fieldCtx.fillStyle = '#000';
    fieldCtx.fillRect(0, 0, 28, 28);
    fieldCtx.imageSmoothingQuality = 'high';
    fieldCtx.drawImage(pad, x0, y0, bw, bh, dx, dy, bw * scale, bh * scale);
  };
  place(14 - (bw * scale) / 2, 14 - (bh * scale) / 2);
  const [cx, cy] = centreOfMass(fieldCtx.getImageData(0, 0, 28, 28).data, 28);
  place(14 - (bw * scale) / 2 + (14 - cx), 14 - (bh * scale) / 2 + (14 - cy));

  const view = $('pad-input');
  view.width = width;
  view.height = height;
  const viewCtx = view.getContext('2d', { willReadFrequently: true });
  viewCtx.imageSmoothingQuality = 'high';
  viewCtx.drawImage(field, 0, 0, width, height);
  const pixels = viewCtx.getImageData(0, 0, width, height).data;
  const input = new Float32Array(width * height);
  for (let i = 0; i < input.length; i++) input[i] = (pixels[i * 4] / 255 - digits.mean) / digits.std;
  return input;
}

function centreOfMass(rgba, side) {
  let [sum, sx, sy] = [0, 0, 0];
  for (let i = 0; i < side * side; i++) {
    const v = rgba[i * 4];
    sum += v;
    sx += v * (i % side);
    sy += v * Math.floor(i / side);
  }
  return sum === 0 ? [side / 2, side / 2] : [sx / sum + 0.5, sy / sum + 0.5];
}

async function classifyDrawing() {
  if (!model || !hasInk) return;
  const input = drawnInput(inputShape);
  if (!input) return;
  const [logits] = await logitsOf(input, [1, ...inputShape]);
  const prediction = argmax(logits);
  const p = softmax(logits);
  const ranked = p.map((v, i) => [i, v]).sort((a, b) => b[1] - a[1]);
  state.drawn = { logits, prediction };
  $('drawn-prediction').textContent =
    `prediction: ${prediction} (p ${ranked[0][1].toFixed(2)}); next ` +
    ranked
      .slice(1, 3)
      .map(([i, v]) => `${i} (${v.toFixed(2)})`)
      .join(', ');
}

// ---- start ----

$('backend').addEventListener('change', (event) =>
  serially(() => useBackend(event.target.value).catch(fail)),
);

clearPad();
serially(async () => {
  try {
    digits = await loadDigits(DIGITS_URL);
    showDigits();
    const asked = params.get('backend');
    await useBackend(BACKENDS.includes(asked) ? asked : 'webgl');
  } catch (e) {
    fail(e);
  }
});
