#!/usr/bin/env python3
"""Reads a torch.save zip written by `prismer convert` the way torch.load does (zipfile + an Unpickler
with torch's persistent_load and _rebuild_tensor_v2), using only the standard library, and compares every
tensor byte for byte with a safetensors file.

usage: check_torch_zip.py FILE.pt FILE.safetensors
"""
import collections
import json
import pickle
import struct
import sys
import zipfile

ITEM_SIZE = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
             "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}
ST_ITEM = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class StorageType:
    def __init__(self, name):
        self.name = name


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def element_bytes(self):
        """The elements in row-major order, as bytes (any dtype)."""
        data, item = self.storage
        out = bytearray()
        def walk(dim, base):
            if dim == len(self.size):
                out.extend(data[base * item:(base + 1) * item])
                return
            for i in range(self.size[dim]):
                walk(dim + 1, base + i * self.stride[dim])
        if all(s > 0 for s in self.size):
            walk(0, self.offset)
        return bytes(out)


def load_torch_zip(path):
    zf = zipfile.ZipFile(path)
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl")]
    assert len(pkl) == 1, f"{path}: expected one data.pkl, found {pkl}"
    prefix = pkl[0][: -len("data.pkl")]
    assert prefix + "version" in names, f"{path}: no version record"

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, requires_grad, hooks: Tensor(storage, offset, size, stride)
            if module == "torch" and name in ITEM_SIZE:
                return StorageType(name)
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

        def persistent_load(self, pid):
            kind, storage_type, key, location, numel = pid
            assert kind == "storage" and location == "cpu"
            data = zf.read(prefix + "data/" + key)
            item = ITEM_SIZE[storage_type.name]
            assert len(data) == numel * item, f"storage {key}: {len(data)} bytes for {numel} elements"
            return (data, item)

    return Unpickler(zf.open(pkl[0])).load()


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    return {k: (v["shape"], raw[base + v["data_offsets"][0]: base + v["data_offsets"][1]]) for k, v in header.items()}


def main():
    state = load_torch_zip(sys.argv[1])
    reference = load_safetensors(sys.argv[2])
    assert isinstance(state, collections.OrderedDict), f"top level is {type(state)}, expected OrderedDict"
    assert list(state.keys()) == list(reference.keys()) or set(state) == set(reference), "different key sets"
    for name, tensor in state.items():
        shape, data = reference[name]
        assert list(tensor.size) == shape, f"{name}: shape {tensor.size} vs {shape}"
        assert tensor.element_bytes() == data, f"{name}: values differ"
    print(f"{sys.argv[1]}: {len(state)} tensors read with pickle + zipfile, identical to {sys.argv[2]}")


if __name__ == "__main__":
    main()
