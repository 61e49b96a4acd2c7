"""Times netspec's generated PyTorch module the way `netspec bench` times tfjs; prints one JSON object.

Usage: python3 torch-bench.py MODEL_PY --batch-size 64 --warmup 2 --repeats 5 --threads 2 --lr 0.005 --seed 0
  --classes 10 [--device cuda]. MODEL_PY is the model.py that `netspec compile --target pytorch` writes (it
  defines build_model() and INPUT_SHAPE). Forward: eval mode under no_grad, logits copied to the host. Step: train
  mode, zero_grad, forward, cross-entropy (mean), backward, SGD step (BN running statistics update in the
  forward), loss.item(). Both end in a copy to the host, which on CUDA waits for the queued kernels, so GPU work is
  timed to completion. A device torch cannot use exits 2 with the reason on stderr.
"""
import argparse
import importlib.util
import json
import resource
import sys
import time


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--repeats", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--classes", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch
    import torch.nn as nn

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.stderr.write(
            f"torch {torch.__version__} sees no CUDA device (built for CUDA {torch.version.cuda or 'none'})\n"
        )
        sys.exit(2)
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("netspec_bench_model", args.model)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(args.seed)
    model = module.build_model().to(device)
    x = torch.randn(args.batch_size, *module.INPUT_SHAPE).to(device)
    y = torch.randint(0, args.classes, (args.batch_size,)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    def forward():
        model.eval()
        with torch.no_grad():
            model(x).cpu()

    def step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    forward_ms = timed(forward, args.warmup, args.repeats)
    step_ms = timed(step, args.warmup, args.repeats)
    json.dump(
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device": (
                f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
            ),
            "forwardMs": forward_ms,
            "stepMs": step_ms,
            # ru_maxrss is in KiB on Linux.
            "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
