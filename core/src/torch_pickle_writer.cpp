// Writes the data.pkl of a torch.save archive.
#include "torch_pickle_writer.h"

#include <cstdint>
#include <map>

namespace prismer::detail {

namespace {

class Pickler {
 public:
  std::string out;

  void op(unsigned char c) { out.push_back(static_cast<char>(c)); }
  void global(const std::string& module, const std::string& name) {
    op('c');
    out += module + "\n" + name + "\n";
  }
  void string(const std::string& s) {
    op('X');  // BINUNICODE
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    out += s;
  }
  void integer(std::int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      out.push_back(static_cast<char>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      const auto u = static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
      for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
    } else {
      op(0x8a);  // LONG1, 8 bytes two's complement
      out.push_back(8);
      const auto u = static_cast<std::uint64_t>(v);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
    }
  }
  void int_tuple(c10::IntArrayRef values) {
    op('(');
    for (auto v : values) integer(v);
    op('t');
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(')');
    op('R');
  }
};

const char* storage_class(torch::ScalarType t) {
  switch (t) {
    case torch::kDouble: return "DoubleStorage";
    case torch::kFloat: return "FloatStorage";
    case torch::kHalf: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kLong: return "LongStorage";
    case torch::kInt: return "IntStorage";
    case torch::kShort: return "ShortStorage";
    case torch::kChar: return "CharStorage";
    case torch::kByte: return "ByteStorage";
    case torch::kBool: return "BoolStorage";
    case torch::kComplexFloat: return "ComplexFloatStorage";
    case torch::kComplexDouble: return "ComplexDoubleStorage";
    default: throw WeightFileError(std::string("torch.save cannot hold dtype ") + c10::toString(t));
  }
}

}  // namespace

TorchPickle pickle_state_dict(const TensorMap& tensors) {
  TorchPickle result;
  std::map<const void*, std::size_t> storage_keys;
  Pickler p;
  p.op(0x80);
  p.op(2);
  p.empty_ordered_dict();
  p.op('(');
  for (const auto& [name, original] : tensors) {
    torch::Tensor t = original.detach();
    if (!t.device().is_cpu()) t = t.to(torch::kCPU);
    const void* impl = t.storage().unsafeGetStorageImpl();
    auto it = storage_keys.find(impl);
    if (it == storage_keys.end()) {
      const auto item = static_cast<std::int64_t>(t.element_size());
      const auto numel = static_cast<std::int64_t>(t.storage().nbytes()) / item;
      torch::Tensor whole = torch::empty({0}, t.options()).set_(t.storage(), 0, {numel}, {1});
      it = storage_keys.emplace(impl, result.storages.size()).first;
      result.storages.push_back(whole);
    }
    const torch::Tensor& storage = result.storages[it->second];
    p.string(name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    {
      p.op('(');  // persistent id ('storage', torch.XStorage, key, 'cpu', numel)
      p.string("storage");
      p.global("torch", storage_class(t.scalar_type()));
      p.string(std::to_string(it->second));
      p.string("cpu");
      p.integer(storage.numel());
      p.op('t');
      p.op('Q');  // BINPERSID
      p.integer(t.storage_offset());
      p.int_tuple(t.sizes());
      p.int_tuple(t.strides());
      p.op(0x89);  // requires_grad False
      p.empty_ordered_dict();  // backward hooks
    }
    p.op('t');
    p.op('R');
  }
  p.op('u');  // SETITEMS
  p.op('.');
  result.pickle = std::move(p.out);
  return result;
}

}  // namespace prismer::detail
