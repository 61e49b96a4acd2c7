"""PyTorch side of the safetensors interop test (test/runtime/weights/safetensors-torch.test.ts).

Usage: python3 torch-interop.py DIR
Reads DIR/from-ts.safetensors (written by netspec) with a hand-written parser and torch.frombuffer, and writes
DIR/from-torch.safetensors from a real PyTorch state_dict, laid out as the reference `serialize` does.
Prints one JSON document: what it read and what it wrote. Prints NO_TORCH when torch cannot be imported.
The safetensors Python package is not used on purpose: it is not in Debian, and the point is an independent
reader/writer of the format.
"""
import json
import os
import struct
import sys

try:
    import torch
except ImportError:
    print("NO_TORCH")
    sys.exit(0)

DTYPES = {
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
    "U8": torch.uint8,
    "BOOL": torch.bool,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
}
NAMES = {v: k for k, v in DTYPES.items()}
# The reference crate's Dtype enum order, restricted to the dtypes above.
RANK = {name: i for i, name in enumerate(["BOOL", "U8", "F16", "BF16", "I32", "F32", "F64", "I64"])}


def read(path):
    # One buffer for the whole file, read in place; every tensor is a view of it (no copies: vgg11_bn's 531 MB).
    raw = bytearray(os.path.getsize(path))
    with open(path, "rb") as f:
        f.readinto(raw)
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(bytes(raw[8 : 8 + n]).decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        size = torch.empty(0, dtype=dtype).element_size()
        t = torch.frombuffer(raw, dtype=dtype, count=(end - begin) // size, offset=8 + n + begin) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out, metadata, header


def write(path, tensors, metadata):
    items = sorted(tensors.items(), key=lambda kv: (-RANK[NAMES[kv[1].dtype]], kv[0].encode("utf-8")))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in items:
        b = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def values(t):
    if t.dtype in (torch.float16, torch.bfloat16):
        return {"bits": t.view(torch.int16).flatten().tolist(), "float": t.float().flatten().tolist()}
    return t.flatten().tolist()


def main():
    folder = sys.argv[1]
    tensors, metadata, header = read(folder + "/from-ts.safetensors")
    seen = {name: {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values(t)} for name, t in tensors.items()}

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, bias=True), torch.nn.BatchNorm2d(2))
    model.train()
    model(torch.randn(4, 1, 5, 5))  # one step of BN statistics: num_batches_tracked becomes 1
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state["extra.mask"] = torch.tensor([True, False, True])
    state["extra.half"] = torch.tensor([1.0, -2.5], dtype=torch.float16)
    state["extra.brain"] = torch.tensor([3.140625], dtype=torch.bfloat16)
    write(folder + "/from-torch.safetensors", state, {"format": "pt"})
    wrote = {name: {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values(t)} for name, t in state.items()}
    print(json.dumps({"read": seen, "readMetadata": metadata, "readOrder": list(header.keys()), "wrote": wrote}))


if __name__ == "__main__":
    main()
