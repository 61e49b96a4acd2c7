// Loads models written by `netspec export` with plain TensorFlow.js, as an app would: no netspec module is
// imported here (a LayersModel's custom layers come from its own layers.js). Run as
//   node test/export/plain-tfjs.mjs JOB.json
// where the job names the backend (cpu, wasm, webgpu) and the cases: {dir, format, input, shape, output,
// fineTune?}. Inputs and outputs are raw little-endian float32 files; a fine-tuned case also writes
// `${output}.loss` (the loss of one SGD step) and `${output}.after` (the logits after it).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const tf = await import('@tensorflow/tfjs');
await useBackend(job.backend);

/** An IOHandler reading model.json and its weight shards from a folder (tfjs's file:// needs tfjs-node). */
function folderHandler(dir) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const shards = manifest.flatMap((group) =>
          group.paths.map((p) => fs.readFileSync(path.join(dir, p))),
        );
        const bytes = Buffer.concat(shards);
        return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
  };
}

async function useBackend(name) {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(`${dir}/`);
  }
  if (name === 'webgpu') {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    globalThis.navigator = { gpu: create([]) };
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  await tf.ready();
}

function readFloats(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const writeFloats = (file, data) => fs.writeFileSync(file, Buffer.from(new Float32Array(data).buffer));

for (const c of job.cases) {
  let model;
  if (c.format === 'tfjs-graph') {
    model = await tf.loadGraphModel(folderHandler(c.dir));
  } else {
    const { registerLayers } = await import(pathToFileURL(path.join(c.dir, 'layers.js')).href);
    registerLayers(tf);
    model = await tf.loadLayersModel(folderHandler(c.dir));
  }
  const x = tf.tensor(readFloats(c.input), c.shape, 'float32');
  const y = model.predict(x);
  writeFloats(c.output, await y.data());
  if (c.fineTune) {
    // One SGD step towards zero logits: the loaded model trains (custom layers' gradients included).
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    const history = await model.fit(x, tf.zerosLike(y), { epochs: 1, batchSize: c.shape[0], shuffle: false });
    writeFloats(`${c.output}.loss`, history.history.loss);
    writeFloats(`${c.output}.after`, await model.predict(x).data());
  }
  tf.dispose([x, y]);
  model.dispose();
}
console.log(`OK ${tf.getBackend()}`);
