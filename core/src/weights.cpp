// Weight-file readers and writers: torch.save (zip and legacy), plain pickles, safetensors, sklearn PCA.
#include <prismer/weights.h>

#include "pickle_machine.h"
#include "torch_pickle_writer.h"

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

namespace prismer {

WeightFileError::~WeightFileError() = default;

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw WeightFileError(path + ": " + what); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fs::exists(path) ? "cannot be opened" : "no such file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

// torch storage class name (e.g. "FloatStorage") -> dtype.
torch::ScalarType storage_dtype(const std::string& path, const PickleValue& type) {
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"DoubleStorage", torch::kDouble}, {"FloatStorage", torch::kFloat},   {"HalfStorage", torch::kHalf},
      {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kLong}, {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort},   {"CharStorage", torch::kChar},     {"ByteStorage", torch::kByte},
      {"BoolStorage", torch::kBool},     {"ComplexFloatStorage", torch::kComplexFloat},
      {"ComplexDoubleStorage", torch::kComplexDouble}};
  if (!type.is(PickleValue::Type::object)) fail(path, "storage type is a " + type.type_name());
  auto it = kTypes.find(type.object().name);
  if (it == kTypes.end()) fail(path, "storage type torch." + type.object().name + " is not supported");
  return it->second;
}

struct StorageRef {
  torch::ScalarType dtype;
  std::string key;
  std::int64_t numel;
};

StorageRef parse_storage_id(const std::string& path, const PickleValue& pid) {
  if (!pid.is(PickleValue::Type::tuple) || pid.list().size() < 5 || !pid.list()[0].is(PickleValue::Type::string) ||
      pid.list()[0].to_string() != "storage")
    fail(path, "persistent id is not a torch storage reference");
  const PickleList& t = pid.list();
  if (t.size() > 5 && !t[5].is(PickleValue::Type::none))
    fail(path, "uses storage views (torch < 0.4 files), which are not supported");
  StorageRef ref{storage_dtype(path, t[1]), t[2].to_string(), t[4].to_int()};
  if (ref.numel < 0) fail(path, "has a storage of negative size");
  return ref;
}

PickleValue load_torch_zip(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    fail(path, std::string("not a readable torch zip archive (truncated or corrupt): ") + e.what_without_backtrace());
  }
  if (!reader->hasRecord("data.pkl")) {
    if (reader->hasRecord("constants.pkl")) fail(path, "is a TorchScript archive, not a torch.save file");
    fail(path, "zip archive has no data.pkl: not a torch.save file");
  }
  at::DataPtr pickle_data;
  std::size_t pickle_size = 0;
  std::unordered_map<std::string, torch::Tensor> storages;
  try {
    std::tie(pickle_data, pickle_size) = reader->getRecord("data.pkl");
  } catch (const c10::Error& e) {
    fail(path, std::string("cannot read data.pkl: ") + e.what_without_backtrace());
  }
  auto loader = [&](const PickleValue& pid) {
    const StorageRef ref = parse_storage_id(path, pid);
    auto it = storages.find(ref.key);
    if (it != storages.end()) return PickleValue::from_tensor(it->second);
    const std::string record = "data/" + ref.key;
    if (!reader->hasRecord(record)) fail(path, "storage record " + record + " is missing");
    at::DataPtr data;
    std::size_t size = 0;
    try {
      std::tie(data, size) = reader->getRecord(record);
    } catch (const c10::Error& e) {
      fail(path, "cannot read " + record + ": " + e.what_without_backtrace());
    }
    const auto item = static_cast<std::int64_t>(c10::elementSize(ref.dtype));
    if (static_cast<std::int64_t>(size) < ref.numel * item)
      fail(path, record + " holds " + std::to_string(size) + " bytes, expected " + std::to_string(ref.numel * item));
    // The record's buffer becomes the storage itself (no second copy); the tensor's deleter owns it.
    torch::Tensor storage;
    if (ref.numel > 0) {
      auto owner = std::make_shared<at::DataPtr>(std::move(data));
      storage = torch::from_blob(owner->get(), {ref.numel}, [owner](void*) mutable { owner.reset(); },
                                 torch::TensorOptions().dtype(ref.dtype));
    } else {
      storage = torch::empty({0}, torch::TensorOptions().dtype(ref.dtype));
    }
    storages.emplace(ref.key, storage);
    return PickleValue::from_tensor(storage);
  };
  detail::PickleMachine machine(static_cast<const char*>(pickle_data.get()), pickle_size, path + " (data.pkl)", loader);
  try {
    return machine.load();
  } catch (const WeightFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw WeightFileError(e.what());
  }
}

// The legacy (pre-1.6) torch.save layout: magic, protocol, sys_info, the object, storage keys, raw storages.
PickleValue load_pickle_stream(const std::string& path, const std::string& bytes) {
  // The legacy magic number 0x1950a86a20f9469cfc6c needs 81 bits, so it is matched as bytes (PROTO 2, LONG1 of 10).
  static const unsigned char kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  const bool legacy = bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
  try {
    if (!legacy) {
      detail::PickleMachine machine(bytes.data(), bytes.size(), path);
      return machine.load();
    }
    std::size_t pos = sizeof kMagic + 1;  // magic + STOP
    if (pos > bytes.size() || bytes[pos - 1] != '.') fail(path, "legacy torch file with a corrupt magic number");
    auto next = [&](detail::PersistentLoader loader = {}) {
      detail::PickleMachine m(bytes.data() + pos, bytes.size() - pos, path, std::move(loader));
      PickleValue v = m.load();
      pos += m.position();
      return v;
    };
    const PickleValue protocol = next();
    if (!protocol.is(PickleValue::Type::integer) || protocol.to_int() != 1001)
      fail(path, "legacy torch file with unknown protocol version");
    next();  // sys_info: endianness and type sizes, all little-endian/standard on the platforms we read
    std::unordered_map<std::string, torch::Tensor> storages;
    PickleValue result = next([&](const PickleValue& pid) {
      const StorageRef ref = parse_storage_id(path, pid);
      auto it = storages.find(ref.key);
      if (it == storages.end())
        it = storages.emplace(ref.key, torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype))).first;
      return PickleValue::from_tensor(it->second);
    });
    const PickleValue keys = next();
    for (const PickleValue& key : keys.list()) {
      auto it = storages.find(key.to_string());
      if (it == storages.end()) fail(path, "raw data for storage '" + key.to_string() + "' that nothing uses");
      if (pos + 8 > bytes.size()) fail(path, "is truncated (storage " + key.to_string() + " is missing)");
      std::int64_t numel;
      std::memcpy(&numel, bytes.data() + pos, 8);
      pos += 8;
      const std::int64_t nbytes = it->second.numel() * static_cast<std::int64_t>(it->second.element_size());
      if (numel != it->second.numel()) fail(path, "storage " + key.to_string() + " has an inconsistent size");
      if (pos + static_cast<std::size_t>(nbytes) > bytes.size())
        fail(path, "is truncated (storage " + key.to_string() + " ends past the end of the file)");
      if (nbytes > 0) std::memcpy(it->second.data_ptr(), bytes.data() + pos, static_cast<std::size_t>(nbytes));
      pos += static_cast<std::size_t>(nbytes);
    }
    if (keys.list().size() != storages.size()) fail(path, "is truncated (storages without data)");
    return result;
  } catch (const WeightFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw WeightFileError(e.what());
  }
}

void flatten(const PickleValue& value, const std::string& prefix, TensorMap& out) {
  if (const torch::Tensor* t = detail::as_tensor(value)) {
    out.emplace_back(prefix, *t);
    return;
  }
  if (!value.is(PickleValue::Type::dict)) return;
  for (const auto& [k, v] : value.dict()) {
    std::string name;
    if (k.is(PickleValue::Type::string)) name = k.to_string();
    else if (k.is(PickleValue::Type::integer)) name = std::to_string(k.to_int());
    else continue;
    flatten(v, prefix.empty() ? name : prefix + "." + name, out);
  }
}

const char* safetensors_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kDouble: return "F64";
    case torch::kFloat: return "F32";
    case torch::kHalf: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kLong: return "I64";
    case torch::kInt: return "I32";
    case torch::kShort: return "I16";
    case torch::kChar: return "I8";
    case torch::kByte: return "U8";
    case torch::kBool: return "BOOL";
    default: throw WeightFileError(std::string("safetensors cannot hold dtype ") + c10::toString(t));
  }
}

torch::ScalarType safetensors_scalar(const std::string& path, const std::string& code) {
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf}, {"BF16", torch::kBFloat16},
      {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
      {"U8", torch::kByte},    {"BOOL", torch::kBool}};
  auto it = kTypes.find(code);
  if (it == kTypes.end()) fail(path, "safetensors dtype '" + code + "' is not supported");
  return it->second;
}

void rename_into_place(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    fail(path, "cannot be written: " + ec.message());
  }
}

}  // namespace

WeightFormat detect_weight_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fs::exists(path) ? "cannot be opened" : "no such file");
  unsigned char head[9] = {0};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = in.gcount();
  if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return WeightFormat::torch_zip;
  if (got >= 2 && head[0] == 0x80 && head[1] <= 5) {
    static const unsigned char kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9};
    return std::memcmp(head, kMagic, sizeof kMagic) == 0 ? WeightFormat::torch_legacy : WeightFormat::pickle;
  }
  if (got == 9 && head[8] == '{') return WeightFormat::safetensors;
  if (got == 0) fail(path, "is empty");
  fail(path, "is not a weight file (neither a torch zip archive, a pickle nor safetensors)");
}

PickleValue load_pickle_file(const std::string& path) {
  switch (detect_weight_format(path)) {
    case WeightFormat::torch_zip: return load_torch_zip(path);
    case WeightFormat::torch_legacy:
    case WeightFormat::pickle: return load_pickle_stream(path, read_all(path));
    case WeightFormat::safetensors: {
      PickleDict d;
      for (auto& [k, v] : load_safetensors(path)) d.emplace_back(PickleValue::from_string(k), PickleValue::from_tensor(v));
      return PickleValue::from_dict(std::move(d));
    }
  }
  fail(path, "unknown format");
}

TensorMap load_weights(const std::string& path, const LoadWeightsOptions& options) {
  TensorMap out;
  if (detect_weight_format(path) == WeightFormat::safetensors) {
    out = load_safetensors(path);
  } else {
    PickleValue root = load_pickle_file(path);
    const PickleValue* chosen = &root;
    if (!options.entry.empty()) {
      chosen = root.find(options.entry);
      if (chosen == nullptr) fail(path, "has no top-level entry '" + options.entry + "'");
    } else {
      for (const char* key : {"model", "state_dict", "module"}) {
        const PickleValue* v = root.find(key);
        if (v != nullptr && v->is(PickleValue::Type::dict)) {
          chosen = v;
          break;
        }
      }
    }
    flatten(*chosen, "", out);
    if (out.empty()) fail(path, "holds no tensors (its top level is a " + root.type_name() + ")");
  }
  if (!options.strip_prefix.empty()) {
    const std::string& p = options.strip_prefix;
    for (auto& [k, v] : out)
      if (k.compare(0, p.size(), p) == 0) k = k.substr(p.size());
  }
  return out;
}

void save_torch(const TensorMap& tensors, const std::string& path) {
  const std::string tmp = path + ".tmp";
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot be created");
    try {
      caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t n) {
        out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
        return out ? n : 0;
      });
      const detail::TorchPickle pickled = detail::pickle_state_dict(tensors);
      writer.writeRecord("data.pkl", pickled.pickle.data(), pickled.pickle.size());
      for (std::size_t i = 0; i < pickled.storages.size(); ++i) {
        const torch::Tensor& s = pickled.storages[i];
        writer.writeRecord("data/" + std::to_string(i), s.data_ptr(), s.numel() * s.element_size());
      }
      writer.writeEndOfFile();
    } catch (const c10::Error& e) {
      out.close();
      fs::remove(tmp);
      fail(path, std::string("cannot be written: ") + e.what_without_backtrace());
    }
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp);
      fail(path, "cannot be written (disk full?)");
    }
  }
  rename_into_place(tmp, path);
}

TensorMap load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fs::exists(path) ? "cannot be opened" : "no such file");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  std::uint64_t header_size = 0;
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(&header_size), 8)) fail(path, "is too short for safetensors");
  if (header_size > file_size - 8) fail(path, "safetensors header runs past the end of the file (truncated?)");
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    fail(path, std::string("safetensors header is not JSON: ") + e.what());
  }
  const std::uint64_t data_start = 8 + header_size;
  const std::uint64_t data_size = file_size - data_start;
  std::vector<std::tuple<std::uint64_t, std::string, torch::Tensor>> entries;
  for (auto& [name, info] : meta.items()) {
    if (name == "__metadata__") continue;
    try {
      const torch::ScalarType dtype = safetensors_scalar(path, info.at("dtype").get<std::string>());
      const auto shape = info.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = info.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
        fail(path, "tensor '" + name + "' has data offsets outside the file (truncated?)");
      torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      if (static_cast<std::uint64_t>(t.numel() * t.element_size()) != offsets[1] - offsets[0])
        fail(path, "tensor '" + name + "' has " + std::to_string(offsets[1] - offsets[0]) + " bytes for its shape");
      in.seekg(static_cast<std::streamoff>(data_start + offsets[0]));
      if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(offsets[1] - offsets[0])))
        fail(path, "cannot read the data of tensor '" + name + "'");
      entries.emplace_back(offsets[0], name, t);
    } catch (const nlohmann::json::exception& e) {
      fail(path, "safetensors entry '" + name + "' is malformed: " + e.what());
    }
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  TensorMap out;
  for (auto& e : entries) out.emplace_back(std::get<1>(e), std::get<2>(e));
  return out;
}

void save_safetensors(const TensorMap& tensors, const std::string& path, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const auto n = static_cast<std::uint64_t>(t.numel() * t.element_size());
    header[name] = {{"dtype", safetensors_dtype(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(t);
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');
  const std::string tmp = path + ".tmp";
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot be created");
    const std::uint64_t size = text.size();
    out.write(reinterpret_cast<const char*>(&size), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data) out.write(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp);
      fail(path, "cannot be written (disk full?)");
    }
  }
  rename_into_place(tmp, path);
}

torch::Tensor PcaParams::transform(const torch::Tensor& x) const {
  return torch::matmul(x.to(torch::kDouble) - mean, components.t());
}

PcaParams load_sklearn_pca(const std::string& path) {
  const PickleValue root = load_pickle_file(path);
  if (!root.is(PickleValue::Type::object) || !root.object().state)
    fail(path, "is not a pickled scikit-learn object (top level is a " + root.type_name() + ")");
  const PickleValue& state = *root.object().state;
  auto get = [&](const char* key) {
    const PickleValue* v = state.find(key);
    const torch::Tensor* t = v ? detail::as_tensor(*v) : nullptr;
    if (t == nullptr) fail(path, std::string("PCA object has no array '") + key + "' (is it a fitted sklearn PCA?)");
    return t->to(torch::kDouble);
  };
  PcaParams p{get("mean_"), get("components_")};
  if (p.components.dim() != 2 || p.mean.dim() != 1 || p.components.size(1) != p.mean.size(0))
    fail(path, "PCA mean_ and components_ have inconsistent shapes");
  return p;
}

const torch::Tensor* find_tensor(const TensorMap& tensors, const std::string& name) {
  for (const auto& [k, v] : tensors)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace prismer
