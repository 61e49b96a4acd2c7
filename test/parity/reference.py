"""PyTorch side of netspec's parity tests (test/parity/pytorch.test.ts). Run with Debian's /usr/bin/python3.

  reference.py seed DIR RESIDUAL        the seed's Model_ResNet18(1, 10, RESIDUAL): random weights, random BN
                                        running statistics, eval-mode output on a random batch
  reference.py torchvision DIR          torchvision's resnet18() likewise (3x224x224, 1000 classes)
  reference.py generated MODEL DIR      the generated module (MODEL = model.py) loads DIR/weights.safetensors
                                        strictly and writes its eval-mode output for DIR/input.safetensors
  reference.py sgd-step DIR RESIDUAL    one SGD step (lr 0.005, cross-entropy) of the seed model in train mode
  reference.py generated-step MODEL DIR the generated module loads DIR/weights.safetensors strictly and takes one SGD
                                        step (lr 0.005, cross-entropy) in train mode on DIR/input.safetensors and
                                        DIR/labels.safetensors; writes the updated state dict and the loss
Each writes DIR/weights.safetensors, DIR/input.safetensors (tensor `input`), DIR/expected.safetensors
(tensor `output`, or the updated state dict) and prints NO_TORCH when torch is missing.
"""
import importlib.util
import os
import sys

try:
    import torch
except ImportError:
    print("NO_TORCH")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("st", os.path.join(HERE, "..", "runtime", "weights", "torch-interop.py"))
st = importlib.util.module_from_spec(spec)
spec.loader.exec_module(st)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "seed"))


def randomize(model, seed):
    """Non-trivial parameters and BN statistics, so a wrong mapping cannot pass."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) * 1.5 + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            elif name.endswith("weight") and t.dim() == 1:  # BN gamma
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)


def save(path, tensors, metadata=None):
    st.write(path, {k: v.detach().contiguous() for k, v in tensors.items()}, metadata or {})


def main():
    torch.manual_seed(0)
    cmd = sys.argv[1]
    if cmd in ("seed", "torchvision", "sgd-step"):
        out = sys.argv[2]
        if cmd == "torchvision":
            import torchvision

            model = torchvision.models.resnet18()
            x = torch.randn(2, 3, 224, 224)
        else:
            from nndl_resnet18 import Model_ResNet18

            model = Model_ResNet18(in_channels=1, num_classes=10, use_residual=sys.argv[3] == "1")
            x = torch.randn(8 if cmd == "sgd-step" else 4, 1, 32, 32)
        randomize(model, 1)
        save(os.path.join(out, "weights.safetensors"), model.state_dict())
        save(os.path.join(out, "input.safetensors"), {"input": x})
        if cmd == "sgd-step":
            y = torch.randint(0, 10, (x.shape[0],), generator=torch.Generator().manual_seed(2))
            save(os.path.join(out, "labels.safetensors"), {"labels": y.to(torch.int32)})
            model.train()
            opt = torch.optim.SGD(model.parameters(), lr=0.005)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            save(os.path.join(out, "expected.safetensors"), model.state_dict(), {"loss": repr(loss.item())})
        else:
            model.eval()
            with torch.no_grad():
                save(os.path.join(out, "expected.safetensors"), {"output": model(x)})
    elif cmd in ("generated", "generated-step"):
        module_path, out = sys.argv[2], sys.argv[3]
        spec_ = importlib.util.spec_from_file_location("generated_model", module_path)
        gen = importlib.util.module_from_spec(spec_)
        spec_.loader.exec_module(gen)
        model = gen.build_model()
        weights, _, _ = st.read(os.path.join(out, "weights.safetensors"))
        model.load_state_dict(weights, strict=True)
        x, _, _ = st.read(os.path.join(out, "input.safetensors"))
        if cmd == "generated":
            model.eval()
            with torch.no_grad():
                save(os.path.join(out, "expected.safetensors"), {"output": model(x["input"])})
        else:
            y, _, _ = st.read(os.path.join(out, "labels.safetensors"))
            model.train()
            opt = torch.optim.SGD(model.parameters(), lr=0.005)
            loss = torch.nn.functional.cross_entropy(model(x["input"]), y["labels"].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            save(os.path.join(out, "expected.safetensors"), model.state_dict(), {"loss": repr(loss.item())})
    else:
        raise SystemExit(f"unknown command {cmd}")
    print("OK")


if __name__ == "__main__":
    main()
