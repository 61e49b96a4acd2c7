"""torchvision side of netspec's zoo tests (test/zoo/*.test.ts, issue 13). Run with Debian's /usr/bin/python3.

  reference.py facts DIR                        for each zoo net, DIR/<name>.json: the constructor call, trainable
                                                parameters, buffers, the smallest square input it accepts in eval
                                                mode, eval time at that input (batch 2), its norm and dropout
                                                layers and the state dict (names and shapes, in order)
  reference.py eval NAME SIZE DIR               randomized weights, randomized BN statistics, LayerNorm, layer
                                                scale, class token and position embedding; batch 2 at SIZE x SIZE;
                                                eval-mode output
  reference.py sgd-step NAME SIZE DIR           the same start, one SGD step (lr 0.005, cross-entropy) in train
                                                mode, with every Dropout and StochasticDepth set to p = 0 (the nets
                                                that have them; named in the output's metadata)
  reference.py generated NAME MODEL DIR [MAP]   the generated netspec module (MODEL = model.py) loads
                                                DIR/weights.safetensors, renamed by the map file MAP (YAML,
                                                `rename: [{from, to}]`, `ignore: [pattern]`), strictly (a shape
                                                that differs only by axes of size 1 reshaped, as netspec's
                                                importer takes it); writes its eval-mode output for
                                                DIR/input.safetensors to DIR/generated.safetensors
  reference.py generated-step NAME MODEL DIR [MAP]  likewise, one SGD step (lr 0.005, cross-entropy) in train mode
                                                on DIR/input and DIR/labels; writes the updated state dict (renamed
                                                names) and the loss to DIR/generated.safetensors
eval and sgd-step write DIR/weights.safetensors (torchvision's state-dict names), DIR/input.safetensors (tensor
`input`), DIR/expected.safetensors (tensor `output`, or the updated state dict with metadata `loss`) and, for
sgd-step, DIR/labels.safetensors (int32 `labels`). Each prints OK, or NO_TORCH / NO_TORCHVISION (exit 0) when
torch or torchvision cannot be imported. Randomness is seeded: the same command writes the same bytes.
"""
import importlib.util
import json
import math
import os
import re
import sys
import time

try:
    import torch
except ImportError:
    print("NO_TORCH")
    sys.exit(0)
try:
    import torchvision
except ImportError:
    print("NO_TORCHVISION")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("parity_reference", os.path.join(HERE, "..", "parity", "reference.py"))
parity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parity)  # its main() only runs as a script; this gives randomize, save and st
st, save = parity.st, parity.save

LR = 0.005  # the parity tests' SGD step
BATCH = 2

# The constructor call of each zoo net: torchvision's defaults, except the auxiliary classifiers (netspec has
# one output) and the init of inception_v3/googlenet (their truncated-normal init is slow and replaced by
# randomize anyway; init_weights=None only warns and then does it).
NETS = {
    "alexnet": {},
    "vgg11_bn": {},
    "resnext50_32x4d": {},
    "wide_resnet50_2": {},
    "mobilenet_v2": {},
    "mnasnet0_5": {},
    "densenet121": {},
    "inception_v3": {"aux_logits": False, "init_weights": False},
    "googlenet": {"aux_logits": False, "init_weights": False},
    "squeezenet1_0": {},
    "shufflenet_v2_x1_0": {},
    "regnet_y_400mf": {},
    "mobilenet_v3_small": {},
    "efficientnet_b0": {},
    "convnext_tiny": {},
    "vit_b_16": {},
}


def constructor(name):
    """The call as Python source, e.g. `torchvision.models.googlenet(aux_logits=False, init_weights=False)`."""
    args = ", ".join(f"{k}={v!r}" for k, v in NETS[name].items())
    return f"torchvision.models.{name}({args})"


def build(name):
    if name not in NETS:
        raise SystemExit(f"unknown net {name}; one of {', '.join(NETS)}")
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(**NETS[name])


def randomize(model, seed=1):
    """reference.py's randomize (BN statistics, biases, 1-D weights: BN and LayerNorm gammas), then what it leaves
    trivial in the zoo: ConvNeXt's layer scale (1e-6), ViT's class token (zeros) and position embedding, and any
    other tensor that is still constant (ViT's zero-initialized head). Afterwards no float tensor is constant."""
    parity.randomize(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("layer_scale"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("class_token") or name.endswith("pos_embedding"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            elif t.numel() > 1 and bool((t == t.reshape(-1)[0]).all()):
                fan_in = t.numel() // t.shape[0]
                t.copy_(torch.randn(t.shape, generator=g) / math.sqrt(fan_in))
        constant = [n for n, t in model.state_dict().items() if t.is_floating_point() and t.numel() > 1 and bool((t == t.reshape(-1)[0]).all())]
    if constant:
        raise SystemExit(f"still constant after randomize: {constant}")


def random_in_train(model):
    """Dropout and StochasticDepth layers with p > 0: what makes train mode random."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, (torch.nn.Dropout, torchvision.ops.StochasticDepth)) and m.p > 0:
            out.append({"module": name, "type": type(m).__name__, "p": m.p})
    return out


def deterministic(model):
    """Sets p = 0 on every Dropout and StochasticDepth (both are then the identity in train mode); returns what it
    changed. For mobilenet_v3_small this is mobilenet_v3_small(dropout=0.0) exactly."""
    changed = random_in_train(model)
    for name, m in model.named_modules():
        if isinstance(m, (torch.nn.Dropout, torchvision.ops.StochasticDepth)):
            m.p = 0.0
    return changed


def batch(size, seed=3):
    return torch.randn(BATCH, 3, size, size, generator=torch.Generator().manual_seed(seed))


def labels(seed=2):
    return torch.randint(0, 1000, (BATCH,), generator=torch.Generator().manual_seed(seed))


def accepts(model, size):
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size))
        return True
    except (RuntimeError, ValueError, AssertionError, IndexError):
        return False


def median_time(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def norms(model):
    """Distinct norm-layer settings, with how many layers have each."""
    seen = {}
    for _, m in model.named_modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            key = (type(m).__name__, m.eps, m.momentum)
        elif isinstance(m, torch.nn.LayerNorm):
            key = (type(m).__name__, m.eps, None)
        else:
            continue
        seen[key] = seen.get(key, 0) + 1
    return [{"type": t, "eps": e, "momentum": mo, "count": c} for (t, e, mo), c in seen.items()]


def leaf_modules(model):
    """How many modules of each type have no children (what a spec has to express), by type name."""
    counts = {}
    for _, m in model.named_modules():
        if not list(m.children()):
            counts[type(m).__name__] = counts.get(type(m).__name__, 0) + 1
    return dict(sorted(counts.items()))


def step_time(model, size):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = batch(size), labels()

    def one():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t = median_time(one, 3)
    model.eval()
    return t


def facts(name, limit=512):
    model = build(name).eval()
    state = model.state_dict()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = list(model.named_buffers())
    smallest = next((s for s in range(1, limit + 1) if accepts(model, s)), None)
    if smallest is None:
        raise SystemExit(f"{name}: no input size up to {limit} accepted")
    rejected_above = [s for s in range(smallest + 1, smallest + 17) if not accepts(model, s)]
    x = batch(smallest)
    with torch.no_grad():
        out_shape = list(model(x).shape)
        eval_s = median_time(lambda: model(x), 5)
        x224 = batch(224)
        eval224_s = median_time(lambda: model(x224), 2)
    randomness = random_in_train(model)
    deterministic(model)
    step_s = step_time(model, smallest)
    return {
        "name": name,
        "torchvision": torchvision.__version__,
        "torch": torch.__version__,
        "constructor": constructor(name),
        "trainableParams": trainable,
        # netspec counts BN running_mean/running_var as buffers; PyTorch also keeps one int64 num_batches_tracked
        # scalar per BN layer, counted apart.
        "buffers": sum(b.numel() for n, b in buffers if not n.endswith("num_batches_tracked")),
        "numBatchesTracked": sum(1 for n, _ in buffers if n.endswith("num_batches_tracked")),
        "stateDictTensors": len(state),
        "smallestInput": smallest,
        "rejectedAbove": rejected_above,
        "outputShape": out_shape,
        "evalSecondsAtSmallest": round(eval_s, 4),
        "evalSecondsAt224": round(eval224_s, 4),
        "sgdStepSecondsAtSmallest": round(step_s, 4),
        "threads": torch.get_num_threads(),
        "batch": BATCH,
        "norms": norms(model),
        "leafModules": leaf_modules(model),
        "randomInTrain": randomness,
        "stateDict": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in state.items()],
    }


def facts_json(f):
    """One fact a line; lists of objects and state-dict rows one item a line, so regenerated facts diff well."""
    lines = []
    for key, value in f.items():
        if isinstance(value, list) and value and isinstance(value[0], (dict, list)) and key != "outputShape":
            items = ",\n".join("    " + json.dumps(v) for v in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_facts(out, names):
    os.makedirs(out, exist_ok=True)
    for name in names:
        f = facts(name)
        with open(os.path.join(out, f"{name}.json"), "w") as fh:
            fh.write(facts_json(f))
        print(f"{name}: {f['trainableParams']} params, smallest {f['smallestInput']}, eval {f['evalSecondsAtSmallest']} s", file=sys.stderr)


def start(name, size, out):
    """Randomized net and batch, saved; returns them."""
    model = build(name)
    randomize(model)
    x = batch(size)
    save(os.path.join(out, "weights.safetensors"), model.state_dict())
    save(os.path.join(out, "input.safetensors"), {"input": x})
    return model, x


def sgd_step(model, x, y):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def load_map(path):
    """A netspec map file's rename rules and ignore patterns, as Python regexes ($1 becomes \\1)."""
    import yaml

    with open(path) as fh:
        doc = yaml.safe_load(fh) or {}
    rules = [(re.compile(r["from"]), re.sub(r"\$(\d+)", r"\\\1", r["to"])) for r in doc.get("rename", [])]
    return rules, [re.compile(p) for p in doc.get("ignore", [])]


def renamed(weights, map_path):
    if not map_path:
        return weights
    rules, ignore = load_map(map_path)
    out = {}
    for name, t in weights.items():
        if any(p.search(name) for p in ignore):
            continue
        for pattern, to in rules:
            name = pattern.sub(to, name)
        out[name] = t
    return out


def unit_axes_as(ours, weights):
    """Tensors whose shape differs from the module's only by axes of size 1 reshaped to it, as netspec's importer
    takes them (ViT's [1, 1, 768] class token as [1, 768], a Linear's [out, in] as a 1x1 convolution's); the
    others as they are, for load_state_dict to judge."""
    def squeezed(shape):
        return [d for d in shape if d != 1]

    out = {}
    for name, t in weights.items():
        want = ours.get(name)
        fits = want is not None and list(t.shape) != list(want.shape) and squeezed(t.shape) == squeezed(want.shape)
        out[name] = t.reshape(want.shape) if fits else t
    return out


def generated(module_path, out, map_path):
    spec = importlib.util.spec_from_file_location("generated_model", module_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    model = gen.build_model()
    weights, _, _ = st.read(os.path.join(out, "weights.safetensors"))
    model.load_state_dict(unit_axes_as(model.state_dict(), renamed(weights, map_path)), strict=True)
    x, _, _ = st.read(os.path.join(out, "input.safetensors"))
    return model, x["input"]


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    torch.set_num_threads(int(os.environ.get("ZOO_THREADS", "1")))
    if cmd == "facts":
        write_facts(sys.argv[2], sys.argv[3:] or list(NETS))
    elif cmd in ("eval", "sgd-step"):
        name, size, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        model, x = start(name, size, out)
        if cmd == "eval":
            model.eval()
            with torch.no_grad():
                y = model(x)
            save(os.path.join(out, "expected.safetensors"), {"output": y}, {"maxAbs": repr(y.abs().max().item())})
        else:
            zeroed = deterministic(model)
            y = labels()
            save(os.path.join(out, "labels.safetensors"), {"labels": y.to(torch.int32)})
            loss = sgd_step(model, x, y)
            meta = {"loss": repr(loss.item()), "zeroed": json.dumps([z["module"] for z in zeroed])}
            save(os.path.join(out, "expected.safetensors"), model.state_dict(), meta)
    elif cmd in ("generated", "generated-step"):
        _name, module_path, out = sys.argv[2], sys.argv[3], sys.argv[4]
        map_path = sys.argv[5] if len(sys.argv) > 5 else None
        model, x = generated(module_path, out, map_path)
        if cmd == "generated":
            model.eval()
            with torch.no_grad():
                save(os.path.join(out, "generated.safetensors"), {"output": model(x)})
        else:
            y, _, _ = st.read(os.path.join(out, "labels.safetensors"))
            loss = sgd_step(model, x, y["labels"].long())
            save(os.path.join(out, "generated.safetensors"), model.state_dict(), {"loss": repr(loss.item())})
    else:
        raise SystemExit(f"unknown command {cmd!r}; see the docstring")
    print("OK")


if __name__ == "__main__":
    main()
