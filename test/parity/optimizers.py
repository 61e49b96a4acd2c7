"""PyTorch side of test/parity/optimizers.test.ts. Run with Debian's /usr/bin/python3.

  optimizers.py MODEL DIR CONFIG_JSON   the generated module (MODEL = model.py) loads DIR/weights.safetensors
                                        strictly, then takes `steps` full-batch steps on DIR/input.safetensors and
                                        DIR/labels.safetensors with the optimizer the JSON names (sgd, momentum with
                                        nesterov, adam, adamw; weight_decay; label_smoothing; lr per step); writes
                                        DIR/expected.safetensors (the state dict) with the step losses as metadata.
"""
import importlib.util
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("st", os.path.join(HERE, "..", "runtime", "weights", "torch-interop.py"))
st = importlib.util.module_from_spec(spec)
spec.loader.exec_module(st)


def main():
    module_path, out, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    spec_ = importlib.util.spec_from_file_location("generated_model", module_path)
    gen = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(gen)
    model = gen.build_model()
    weights, _, _ = st.read(os.path.join(out, "weights.safetensors"))
    model.load_state_dict(weights, strict=True)
    x, _, _ = st.read(os.path.join(out, "input.safetensors"))
    y, _, _ = st.read(os.path.join(out, "labels.safetensors"))
    x, y = x["input"], y["labels"].long()
    kind, lrs, wd = config["optimizer"], config["lrs"], config["weight_decay"]
    params = model.parameters()
    if kind == "sgd":
        opt = torch.optim.SGD(params, lr=lrs[0], weight_decay=wd)
    elif kind == "momentum":
        opt = torch.optim.SGD(params, lr=lrs[0], momentum=config["momentum"], nesterov=config["nesterov"], weight_decay=wd)
    elif kind == "adam":
        opt = torch.optim.Adam(params, lr=lrs[0], weight_decay=wd)
    elif kind == "adamw":
        opt = torch.optim.AdamW(params, lr=lrs[0], weight_decay=wd)
    else:
        raise SystemExit(f"unknown optimizer {kind}")
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config["label_smoothing"])
    model.train()
    losses = []
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = lr
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    st.write(os.path.join(out, "expected.safetensors"), tensors, {"losses": json.dumps(losses)})
    print("OK")


if __name__ == "__main__":
    main()
