/**
 * The webgpu backend in Node: tfjs-backend-webgpu on Dawn's WebGPU (the optional `webgpu` package and its
 * prebuilt dawn.node). Finds an adapter, says what it is and whether it is a software one (a CPU emulating a GPU,
 * whose times are not GPU times), and registers tfjs's backend on it.
 *
 * A software adapter is offered only to a caller that allows it (`--backend webgpu` by name); `auto` never takes
 * one. Asked by name on a machine where Dawn finds nothing and the Vulkan driver variables are unset, SwiftShader is
 * looked for where Debian's chromium ships its Vulkan driver, with VK_ICD_FILENAMES set only while Dawn enumerates
 * (the Vulkan loader reads it then; the environment is restored afterwards).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBackendFactory, registerBackend, removeBackend } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** What Dawn says about the adapter tfjs runs on. */
export interface GpuAdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A CPU emulating a GPU (SwiftShader, llvmpipe, lavapipe, WARP; Dawn's "CPU" adapter type): not GPU times. */
  readonly software: boolean;
}

/** The Vulkan driver manifest of SwiftShader in Debian's chromium package (tried when asked for webgpu by name). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The npm package that holds Dawn's Node binding. */
export const WEBGPU_PACKAGE = 'webgpu';

/** What the adapter info of Dawn's binding exposes (getters: each field is read explicitly). */
interface AdapterInfoLike {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}

type GpuDevice = ConstructorParameters<typeof WebGPUBackend>[0];

interface DawnAdapter {
  readonly info: AdapterInfoLike;
  /** Older bindings put it on the adapter rather than its info. */
  readonly isFallbackAdapter?: boolean;
  readonly features: ReadonlySet<string>;
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor: {
    requiredFeatures: string[];
    requiredLimits: Record<string, number>;
  }): Promise<GpuDevice>;
}

interface DawnGpu {
  requestAdapter(options: { powerPreference: 'high-performance' }): Promise<DawnAdapter | null>;
}

/** The `webgpu` package's exports. */
interface DawnModule {
  create(flags: string[]): DawnGpu;
  readonly globals: Readonly<Record<string, unknown>>;
}

/** An adapter Dawn found: its instance (to ask again when tfjs initialises), what it is, and how it was found. */
interface FoundAdapter {
  readonly gpu: DawnGpu;
  readonly report: GpuAdapterReport;
  /** How it was found when netspec had to look for it (SwiftShader's manifest), for the selection note. */
  readonly via?: string;
}

/** The outcome of {@link loadWebGpu}: tfjs's webgpu backend registered on an adapter, or why not. */
export type WebGpuLoad =
  | { readonly ok: true; readonly adapter: GpuAdapterReport; readonly note: string }
  | { readonly ok: false; readonly reason: string };

/** Options of {@link loadWebGpu}. */
export interface WebGpuLoadOptions {
  /** Take a software adapter, and look for SwiftShader when there is none (true when asked for by name). */
  readonly allowSoftware: boolean;
  /** The package to load Dawn from (tests name a missing one). */
  readonly packageName?: string;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;
const ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const;
const DRIVER_VARIABLES = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'] as const;
const INSTALL_HINT =
  "a GPU's Vulkan driver (its ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d, or named by " +
  "VK_DRIVER_FILES) and the Vulkan loader libvulkan.so.1 (Debian: libvulkan1); for a software GPU, Debian's " +
  `chromium (SwiftShader, ${SWIFTSHADER_ICD}) or VK_ICD_FILENAMES set to another ICD manifest`;

/** True for an adapter that is a CPU emulating a GPU: Dawn's fallback (CPU-type) adapters and known rasterisers. */
export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  return (
    info.isFallbackAdapter === true ||
    [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE_NAMES.test(s))
  );
}

/** One line naming an adapter: `nvidia hopper "NVIDIA H200"`, `google swiftshader "SwiftShader driver 5.0.0"`. */
export function describeAdapter(report: GpuAdapterReport): string {
  const name = [report.vendor, report.architecture].filter((s) => s !== '').join(' ') || 'unknown vendor';
  const description = report.description || report.device;
  return description ? `${name} "${description}"` : name;
}

/** The first line of an error's message. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function manifestsIn(entry: string): string[] {
  try {
    if (!statSync(entry).isDirectory()) return [entry];
    return readdirSync(entry)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(entry, f))
      .filter(isFile);
  } catch {
    return [];
  }
}

/**
 * The Vulkan driver (ICD) manifests the Linux Vulkan loader would find, by its rules: VK_DRIVER_FILES (or the older
 * VK_ICD_FILENAMES) replaces the search; otherwise the icd.d folders under the XDG config and data folders, /etc and
 * /usr/local/etc; VK_ADD_DRIVER_FILES adds to either. Empty means Dawn cannot find a Vulkan adapter, so `auto`
 * need not load Dawn (which prints the loader's "Found no drivers" warnings on stderr) to learn it.
 */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (value: string | undefined): string[] => (value ?? '').split(':').filter((s) => s !== '');
  const named = list(env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES);
  const home = env.HOME || os.homedir();
  const searched = [
    env.XDG_CONFIG_HOME || path.join(home, '.config'),
    ...list(env.XDG_CONFIG_DIRS || '/etc/xdg'),
    '/usr/local/etc',
    '/etc',
    env.XDG_DATA_HOME || path.join(home, '.local/share'),
    ...list(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share'),
  ].map((dir) => path.join(dir, 'vulkan/icd.d'));
  const entries = [...(named.length > 0 ? named : searched), ...list(env.VK_ADD_DRIVER_FILES)];
  return [...new Set(entries.flatMap(manifestsIn))];
}

const dawnModules = new Map<string, Promise<DawnModule | string>>();

/** Loads Dawn's binding once per package name; resolves to the module or the reason it cannot be loaded. */
function importDawn(packageName: string): Promise<DawnModule | string> {
  let loading = dawnModules.get(packageName);
  if (loading === undefined) {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
    loading = import(packageName).then(
      (m) => m as DawnModule,
      (e: unknown) => {
        const code = (e as { code?: string } | null)?.code;
        const missing =
          (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
          firstLine(e).includes(`'${packageName}'`);
        return missing
          ? `the optional package ${packageName} is not installed (npm install ${packageName}: Dawn's WebGPU ` +
              'for Node, with its prebuilt dawn.node)'
          : `${packageName} failed to load: ${firstLine(e)}`;
      },
    );
    dawnModules.set(packageName, loading);
  }
  return loading;
}

function reportOf(adapter: DawnAdapter): GpuAdapterReport {
  // GPUAdapterInfo's fields are getters on the prototype: spread or JSON would see none of them.
  const { info } = adapter;
  const fields = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter;
  return {
    ...fields,
    software: isSoftwareAdapter({
      ...fields,
      ...(fallback === undefined ? {} : { isFallbackAdapter: fallback }),
    }),
  };
}

/** Asks a fresh Dawn instance for an adapter under the environment as it is now; `none` says why there is none. */
async function requestAdapter(dawn: DawnModule, none: string): Promise<FoundAdapter | string> {
  try {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
    return adapter === null ? none : { gpu, report: reportOf(adapter) };
  } catch (e) {
    return `Dawn failed to enumerate adapters: ${firstLine(e)}`;
  }
}

/** Per setting of the Vulkan driver variables: the adapter Dawn found, or why there is none. */
const systemAdapters = new Map<string, Promise<FoundAdapter | string>>();
let swiftshaderAdapter: Promise<FoundAdapter | string> | undefined;

function driverSetting(): string {
  return DRIVER_VARIABLES.map((v) => `${v}=${process.env[v] ?? ''}`).join(' ');
}

/** The adapter the system's own drivers give, probed once per driver setting. */
function systemAdapter(dawn: DawnModule): Promise<FoundAdapter | string> {
  const key = driverSetting();
  let probe = systemAdapters.get(key);
  if (probe === undefined) {
    probe = (async () => {
      if (process.platform === 'linux' && vulkanDriverManifests().length === 0) {
        const named = DRIVER_VARIABLES.filter((v) => process.env[v]);
        return named.length > 0
          ? `no Vulkan driver: ${named.map((v) => `${v}=${process.env[v]}`).join(', ')} names no ICD manifest`
          : "no Vulkan driver (no ICD manifest in the Vulkan loader's icd.d folders; VK_DRIVER_FILES and " +
              'VK_ICD_FILENAMES unset)';
      }
      return requestAdapter(dawn, 'Dawn found no GPU adapter');
    })();
    systemAdapters.set(key, probe);
  }
  return probe;
}

/** SwiftShader through chromium's manifest, when the Vulkan driver variables leave the choice to netspec. */
function findSwiftShader(dawn: DawnModule): Promise<FoundAdapter | string> {
  swiftshaderAdapter ??= (async () => {
    if (!existsSync(SWIFTSHADER_ICD)) return `no SwiftShader either (${SWIFTSHADER_ICD} not found)`;
    // The Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its Vulkan instance, which happens during the
    // first adapter request of a new Dawn instance; later requests on that instance reuse what it found.
    const previous = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    try {
      const found = await requestAdapter(dawn, `Dawn found no adapter through ${SWIFTSHADER_ICD} either`);
      if (typeof found === 'string') return found;
      return {
        ...found,
        via: `found through ${SWIFTSHADER_ICD} (VK_ICD_FILENAMES set while Dawn enumerated)`,
      };
    } finally {
      if (previous === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = previous;
    }
  })();
  return swiftshaderAdapter;
}

/** tfjs's own device request (features and limits raised to the adapter's), with the feature list well formed. */
function deviceDescriptor(adapter: DawnAdapter): {
  requiredFeatures: string[];
  requiredLimits: Record<string, number>;
} {
  const limits = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  const requiredLimits: Record<string, number> = {};
  for (const name of limits) {
    const value = adapter.limits[name];
    if (value !== undefined) requiredLimits[name] = value;
  }
  return {
    requiredFeatures: ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f)),
    requiredLimits,
  };
}

let registered: FoundAdapter | undefined;

/** Registers tfjs's webgpu backend on `found` (its factory runs on the first setBackend('webgpu')). */
async function register(dawn: DawnModule, found: FoundAdapter): Promise<void> {
  if (registered === found && findBackendFactory('webgpu') !== null) return;
  // Loaded before navigator.gpu exists, tfjs-backend-webgpu registers its kernels but not its own factory (which
  // would ask navigator.gpu for whatever adapter it gives): netspec's factory below uses the adapter it chose.
  const { WebGPUBackend: Backend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Its shaders and buffers use the GPUBufferUsage-style constants as globals, as a browser has them.
  for (const [name, value] of Object.entries(dawn.globals))
    if (!(name in globalThis))
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  if (findBackendFactory('webgpu') !== null) removeBackend('webgpu');
  registerBackend('webgpu', async () => {
    // WebGPUBackend's constructor refuses to run unless navigator.gpu exists (its browser check).
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    if (nav === undefined)
      Object.defineProperty(globalThis, 'navigator', {
        value: { gpu: found.gpu },
        configurable: true,
        writable: true,
      });
    else if (nav.gpu !== found.gpu)
      Object.defineProperty(nav, 'gpu', { value: found.gpu, configurable: true });
    // An adapter makes one device; ask the same instance again rather than keep a consumed one.
    const adapter = await found.gpu.requestAdapter(ADAPTER_OPTIONS);
    if (adapter === null)
      throw new Error(`Dawn no longer finds the adapter ${describeAdapter(found.report)}`);
    const device = await adapter.requestDevice(deviceDescriptor(adapter));
    return new Backend(device, adapter.info as ConstructorParameters<typeof WebGPUBackend>[1]);
  });
  registered = found;
}

/** The selection note for an adapter that runs. */
function noteFor(found: FoundAdapter): string {
  const what = describeAdapter(found.report);
  const kind = found.report.software
    ? 'a software adapter: the GPU is emulated on the CPU, so its times are not GPU times'
    : 'a hardware adapter';
  return `webgpu: Dawn on ${what}, ${kind}${found.via ? `; ${found.via}` : ''}`;
}

/**
 * Finds an adapter and registers tfjs's webgpu backend on it (the caller activates it). Without `allowSoftware`,
 * a software adapter is refused and nothing is looked for beyond the system's drivers; with it, SwiftShader is
 * tried when the system gives no adapter and the Vulkan driver variables are unset. Never throws: a missing
 * package, driver or adapter is the reason returned.
 */
export async function loadWebGpu(options: WebGpuLoadOptions): Promise<WebGpuLoad> {
  const dawn = await importDawn(options.packageName ?? WEBGPU_PACKAGE);
  if (typeof dawn === 'string') return { ok: false, reason: `webgpu: ${dawn}` };
  const found = await chooseAdapter(dawn, options.allowSoftware);
  if (typeof found === 'string') return { ok: false, reason: `webgpu: ${found}` };
  try {
    await register(dawn, found);
  } catch (e) {
    return { ok: false, reason: `webgpu: tfjs-backend-webgpu failed to load: ${firstLine(e)}` };
  }
  return { ok: true, adapter: found.report, note: noteFor(found) };
}

/** The system's adapter where it will do, else (when allowed) SwiftShader, else why there is none. */
async function chooseAdapter(dawn: DawnModule, allowSoftware: boolean): Promise<FoundAdapter | string> {
  const system = await systemAdapter(dawn);
  if (typeof system !== 'string')
    return !system.report.software || allowSoftware
      ? system
      : `only a software adapter, ${describeAdapter(system.report)} (the GPU emulated on the CPU); ` +
          'auto never picks one: ask for it with --backend webgpu';
  if (!allowSoftware) return system;
  // Driver variables set by the user are their choice of driver: netspec does not override them.
  const chosen = DRIVER_VARIABLES.filter((v) => process.env[v]);
  const swiftshader =
    chosen.length > 0 ? `SwiftShader not tried (${chosen.join(', ')} set)` : await findSwiftShader(dawn);
  return typeof swiftshader === 'string' ? `${system}; ${swiftshader}; install ${INSTALL_HINT}` : swiftshader;
}
