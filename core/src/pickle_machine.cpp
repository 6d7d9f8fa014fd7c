// The pickle virtual machine: opcodes of protocols 0-5 (in-band), with torch and numpy rebuilding
// interpreted and every other callable kept as an inert PickleObject.
#include "pickle_machine.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace prismer::detail {

namespace {

// The opcodes, named as in CPython's pickletools.
enum Op : unsigned char {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I', BININT = 'J',
  BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', PERSID = 'P', BINPERSID = 'Q', REDUCE = 'R',
  STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U', UNICODE = 'V', BINUNICODE = 'X', APPEND = 'a',
  BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', GET = 'g', BINGET = 'h',
  INST = 'i', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', OBJ = 'o', PUT = 'p', BINPUT = 'q',
  LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
  PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B',
  SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
  ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
  BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98,
};

std::string qualified(const PickleObject& o) { return o.module + "." + o.name; }

bool is_numpy(const std::string& module) {
  return module == "numpy.core.multiarray" || module == "numpy._core.multiarray" || module == "numpy";
}

// Python str (held as UTF-8) -> the latin-1 bytes `_codecs.encode(s, "latin1")` yields.
std::string utf8_to_latin1(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      if (cp > 0xFF) throw std::runtime_error("latin-1 encode of a character above U+00FF");
      out.push_back(static_cast<char>(cp));
      i += 2;
    } else {
      throw std::runtime_error("latin-1 encode of a character above U+00FF");
    }
  }
  return out;
}

// Latin-1 bytes (protocol 0-1 STRING data) -> UTF-8, so every str we hold is UTF-8.
std::string latin1_to_utf8(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

struct NumpyType {
  torch::ScalarType scalar;
  int item_size;
  bool needs_widening;  // unsigned ints torch lacks: read then widen to int64
};

NumpyType numpy_type(const std::string& code) {
  if (code == "f2") return {torch::kHalf, 2, false};
  if (code == "f4") return {torch::kFloat, 4, false};
  if (code == "f8") return {torch::kDouble, 8, false};
  if (code == "i1") return {torch::kChar, 1, false};
  if (code == "i2") return {torch::kShort, 2, false};
  if (code == "i4") return {torch::kInt, 4, false};
  if (code == "i8") return {torch::kLong, 8, false};
  if (code == "u1") return {torch::kByte, 1, false};
  if (code == "b1") return {torch::kBool, 1, false};
  if (code == "u2") return {torch::kShort, 2, true};
  if (code == "u4") return {torch::kInt, 4, true};
  if (code == "c8") return {torch::kComplexFloat, 8, false};
  if (code == "c16") return {torch::kComplexDouble, 16, false};
  throw std::runtime_error("numpy dtype '" + code + "' is not supported");
}

// The dtype code ("f4") and byte order of a numpy.dtype object built by REDUCE + BUILD.
std::pair<std::string, char> numpy_dtype_of(const PickleValue& dtype) {
  if (!dtype.is(PickleValue::Type::object) || dtype.object().name != "dtype")
    throw std::runtime_error("numpy array without a dtype object");
  const PickleObject& o = dtype.object();
  if (o.args.empty()) throw std::runtime_error("numpy.dtype without arguments");
  char order = '<';
  if (o.state && o.state->is(PickleValue::Type::tuple) && o.state->list().size() > 1 &&
      o.state->list()[1].is(PickleValue::Type::string) && !o.state->list()[1].to_string().empty())
    order = o.state->list()[1].to_string()[0];
  return {o.args[0].to_string(), order};
}

torch::Tensor tensor_from_bytes(const std::string& raw, const std::vector<std::int64_t>& shape, const std::string& code,
                                char order, bool fortran) {
  const NumpyType t = numpy_type(code);
  std::int64_t numel = 1;
  for (auto d : shape) numel *= d;
  if (static_cast<std::int64_t>(raw.size()) != numel * t.item_size)
    throw std::runtime_error("numpy array data has " + std::to_string(raw.size()) + " bytes, expected " +
                             std::to_string(numel * t.item_size));
  std::vector<std::int64_t> dims = shape;
  if (fortran) dims.assign(shape.rbegin(), shape.rend());
  torch::Tensor out = torch::empty(dims, torch::TensorOptions().dtype(t.scalar));
  std::memcpy(out.data_ptr(), raw.data(), raw.size());
  if (order == '>' && t.item_size > 1) {
    auto* bytes = static_cast<unsigned char*>(out.data_ptr());
    const int swap_unit = (t.scalar == torch::kComplexFloat || t.scalar == torch::kComplexDouble) ? t.item_size / 2 : t.item_size;
    for (std::size_t i = 0; i < raw.size(); i += swap_unit)
      for (int a = 0, b = swap_unit - 1; a < b; ++a, --b) std::swap(bytes[i + a], bytes[i + b]);
  }
  if (t.needs_widening) {
    out = out.to(torch::kLong);
    const std::int64_t mask = t.item_size == 2 ? 0xFFFF : 0xFFFFFFFFLL;
    out = torch::bitwise_and(out, mask);
  }
  if (fortran) {
    std::vector<std::int64_t> perm;
    for (auto i = static_cast<std::int64_t>(dims.size()) - 1; i >= 0; --i) perm.push_back(i);
    out = out.permute(perm).contiguous();
  }
  return out;
}

std::vector<std::int64_t> int_tuple(const PickleValue& v) {
  std::vector<std::int64_t> out;
  for (const auto& e : v.list()) out.push_back(e.to_int());
  return out;
}

}  // namespace

const torch::Tensor* as_tensor(const PickleValue& value) {
  if (value.is(PickleValue::Type::tensor)) return &value.tensor();
  if (value.is(PickleValue::Type::object)) {
    const PickleObject& o = value.object();
    if (o.module == "numpy" && o.name == "ndarray" && o.state && o.state->is(PickleValue::Type::tensor))
      return &o.state->tensor();
  }
  return nullptr;
}

PickleMachine::PickleMachine(const char* data, std::size_t size, std::string source, PersistentLoader loader)
    : data_(data), size_(size), source_(std::move(source)), loader_(std::move(loader)) {}

PickleValue PickleMachine::load() {
  std::vector<PickleValue> stack;
  std::vector<std::size_t> marks;
  std::unordered_map<std::uint64_t, PickleValue> memo;
  std::size_t op_pos = pos_;

  auto fail = [&](const std::string& what) -> void {
    throw std::runtime_error(source_ + ": pickle data " + what + " (at byte " + std::to_string(op_pos) + ")");
  };
  auto need = [&](std::size_t n) {
    if (pos_ + n > size_) fail("is truncated");
  };
  auto read_bytes = [&](std::size_t n) {
    need(n);
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  };
  auto read_u = [&](int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += static_cast<std::size_t>(n);
    return v;
  };
  auto read_line = [&]() {
    std::size_t end = pos_;
    while (end < size_ && data_[end] != '\n') ++end;
    if (end >= size_) fail("is truncated (no end of line)");
    std::string s(data_ + pos_, end - pos_);
    pos_ = end + 1;
    return s;
  };
  auto pop = [&]() {
    if (stack.empty() || (!marks.empty() && stack.size() <= marks.back())) fail("pops an empty stack");
    PickleValue v = std::move(stack.back());
    stack.pop_back();
    return v;
  };
  auto top = [&]() -> PickleValue& {
    if (stack.empty()) fail("reads an empty stack");
    return stack.back();
  };
  auto pop_mark = [&]() {
    if (marks.empty()) fail("has no MARK");
    const std::size_t m = marks.back();
    marks.pop_back();
    PickleList items(std::make_move_iterator(stack.begin() + static_cast<std::ptrdiff_t>(m)),
                     std::make_move_iterator(stack.end()));
    stack.resize(m);
    return items;
  };
  auto make_global = [&](std::string module, std::string name) {
    PickleObject o;
    o.module = std::move(module);
    o.name = std::move(name);
    o.is_class = true;
    return PickleValue::from_object(std::move(o));
  };
  auto set_items = [&](PickleValue& target, PickleList& kv) {
    if (kv.size() % 2 != 0) fail("has an odd number of dict items");
    if (!target.is(PickleValue::Type::dict)) fail("sets items on a " + target.type_name());
    PickleDict& d = target.dict();
    for (std::size_t i = 0; i < kv.size(); i += 2) {
      bool replaced = false;
      if (kv[i].is(PickleValue::Type::string) || kv[i].is(PickleValue::Type::integer)) {
        for (auto& [k, v] : d) {
          if (k.type() == kv[i].type() &&
              (k.is(PickleValue::Type::string) ? k.to_string() == kv[i].to_string() : k.to_int() == kv[i].to_int())) {
            v = kv[i + 1];
            replaced = true;
            break;
          }
        }
      }
      if (!replaced) d.emplace_back(kv[i], kv[i + 1]);
    }
  };
  auto append_items = [&](PickleValue& target, PickleList& items) {
    if (!target.is(PickleValue::Type::list)) fail("appends to a " + target.type_name());
    for (auto& v : items) target.list().push_back(std::move(v));
  };

  // REDUCE, NEWOBJ, INST and OBJ all land here: interpret the few callables weight files need.
  auto call = [&](const PickleValue& callable, PickleList args) -> PickleValue {
    if (!callable.is(PickleValue::Type::object)) fail("calls a " + callable.type_name());
    const PickleObject& f = callable.object();
    const std::string q = qualified(f);
    if (q == "collections.OrderedDict" || q == "builtins.dict" || q == "__builtin__.dict") {
      PickleValue d = PickleValue::from_dict({});
      if (!args.empty() && args[0].is(PickleValue::Type::list))
        for (auto& pair : args[0].list())
          if (pair.list().size() == 2) d.dict().emplace_back(pair.list()[0], pair.list()[1]);
      return d;
    }
    if (q == "torch._utils._rebuild_tensor_v2" || q == "torch._utils._rebuild_tensor") {
      if (args.size() < 4) fail("calls " + q + " with too few arguments");
      const torch::Tensor* storage = as_tensor(args[0]);
      if (storage == nullptr) fail("rebuilds a tensor from a " + args[0].type_name() + " instead of a storage");
      const auto size = int_tuple(args[2]);
      const auto stride = int_tuple(args[3]);
      const std::int64_t offset = args[1].to_int();
      std::int64_t last = offset;
      bool empty = false;
      for (std::size_t i = 0; i < size.size(); ++i) {
        if (size[i] == 0) empty = true;
        last += (size[i] - 1) * stride[i];
      }
      if (!empty && last >= storage->numel()) fail("has a tensor reaching past the end of its storage");
      return PickleValue::from_tensor(empty ? torch::empty(size, storage->options())
                                            : storage->as_strided(size, stride, offset));
    }
    if (q == "torch._utils._rebuild_parameter" || q == "torch._utils._rebuild_parameter_with_state") {
      if (args.empty() || !args[0].is(PickleValue::Type::tensor)) fail("rebuilds a parameter without a tensor");
      return args[0];
    }
    // LibTorch's torch::pickle_save wraps typed containers as restore_type_tag(value, "Dict[str, Tensor]").
    if (q == "torch.jit._pickle.restore_type_tag") {
      if (args.empty()) fail("calls restore_type_tag without arguments");
      return args[0];
    }
    if (q == "_codecs.encode") {
      if (args.empty()) fail("calls _codecs.encode without arguments");
      try {
        return PickleValue::from_bytes(utf8_to_latin1(args[0].to_string()));
      } catch (const std::exception& e) {
        fail(e.what());
      }
    }
    if ((q == "builtins.set" || q == "builtins.frozenset" || q == "__builtin__.set") ) {
      return PickleValue::from_list(args.empty() ? PickleList{} : args[0].list());
    }
    if (q == "copyreg._reconstructor" || q == "copy_reg._reconstructor") {
      if (args.empty() || !args[0].is(PickleValue::Type::object)) fail("reconstructs without a class");
      PickleObject o;
      o.module = args[0].object().module;
      o.name = args[0].object().name;
      return PickleValue::from_object(std::move(o));
    }
    if (is_numpy(f.module) && f.name == "scalar") {
      if (args.size() < 2) fail("builds a numpy scalar without data");
      const auto [code, order] = numpy_dtype_of(args[0]);
      torch::Tensor t = tensor_from_bytes(args[1].to_string(), {}, code, order, false);
      if (t.is_floating_point()) return PickleValue::from_real(t.item<double>());
      if (t.scalar_type() == torch::kBool) return PickleValue::from_bool(t.item<bool>());
      return PickleValue::from_int(t.item<std::int64_t>());
    }
    // Anything else (numpy._reconstruct, numpy.dtype, sklearn classes...) is kept as an inert object.
    PickleObject o;
    o.module = f.module;
    o.name = f.name;
    o.args = std::move(args);
    return PickleValue::from_object(std::move(o));
  };

  auto build = [&](PickleValue& target, PickleValue state) {
    if (target.is(PickleValue::Type::object)) {
      PickleObject& o = target.object();
      if (is_numpy(o.module) && o.name == "_reconstruct") {
        // state = (version, shape, dtype, is_fortran, raw) or, without version, the last four.
        PickleList& s = state.list();
        const std::size_t base = s.size() == 5 ? 1 : 0;
        if (s.size() < 4) fail("has a numpy array state of " + std::to_string(s.size()) + " fields");
        const auto shape = int_tuple(s[base]);
        const auto [code, order] = numpy_dtype_of(s[base + 1]);
        const bool fortran = s[base + 2].to_bool();
        if (!s[base + 3].is(PickleValue::Type::bytes) && !s[base + 3].is(PickleValue::Type::string))
          fail("has a numpy array of Python objects (only numeric arrays are read)");
        torch::Tensor t;
        try {
          t = tensor_from_bytes(s[base + 3].to_string(), shape, code, order, fortran);
        } catch (const std::exception& e) {
          fail(e.what());
        }
        o.module = "numpy";
        o.name = "ndarray";
        o.state = std::make_shared<PickleValue>(PickleValue::from_tensor(std::move(t)));
        return;
      }
      // (dict_state, slot_state) tuples: keep the dict part.
      if (state.is(PickleValue::Type::tuple) && state.list().size() == 2 && state.list()[0].is(PickleValue::Type::dict))
        state = state.list()[0];
      o.state = std::make_shared<PickleValue>(std::move(state));
      return;
    }
    // OrderedDict attributes (state_dict._metadata), Parameter state...: nothing a reader needs.
    if (target.is(PickleValue::Type::dict) || target.is(PickleValue::Type::tensor)) return;
    fail("BUILDs a " + target.type_name());
  };

  for (;;) {
    op_pos = pos_;
    need(1);
    const auto op = static_cast<unsigned char>(data_[pos_++]);
    switch (op) {
      case PROTO: {
        const auto proto = read_u(1);
        if (proto > 5) fail("uses pickle protocol " + std::to_string(proto) + " (at most 5 is known)");
        break;
      }
      case FRAME: read_u(8); break;
      case STOP: {
        if (stack.size() != 1 || !marks.empty()) fail("ends with " + std::to_string(stack.size()) + " values on the stack");
        return std::move(stack.back());
      }
      case MARK: marks.push_back(stack.size()); break;
      case POP: {
        if (!marks.empty() && stack.size() == marks.back()) marks.pop_back();
        else pop();
        break;
      }
      case POP_MARK: pop_mark(); break;
      case DUP: stack.push_back(top()); break;
      case NONE: stack.emplace_back(); break;
      case NEWTRUE: stack.push_back(PickleValue::from_bool(true)); break;
      case NEWFALSE: stack.push_back(PickleValue::from_bool(false)); break;
      case INT: {
        const std::string line = read_line();
        if (line == "01") stack.push_back(PickleValue::from_bool(true));
        else if (line == "00") stack.push_back(PickleValue::from_bool(false));
        else {
          try { stack.push_back(PickleValue::from_int(std::stoll(line))); } catch (...) { fail("has a bad INT"); }
        }
        break;
      }
      case BININT: stack.push_back(PickleValue::from_int(static_cast<std::int32_t>(read_u(4)))); break;
      case BININT1: stack.push_back(PickleValue::from_int(static_cast<std::int64_t>(read_u(1)))); break;
      case BININT2: stack.push_back(PickleValue::from_int(static_cast<std::int64_t>(read_u(2)))); break;
      case LONG: {
        std::string line = read_line();
        if (!line.empty() && line.back() == 'L') line.pop_back();
        try { stack.push_back(PickleValue::from_int(std::stoll(line))); } catch (...) { fail("has a LONG beyond 64 bits"); }
        break;
      }
      case LONG1:
      case LONG4: {
        const std::size_t n = op == LONG1 ? read_u(1) : read_u(4);
        if (n > 8) fail("has an integer beyond 64 bits");
        need(n);
        std::uint64_t v = 0;
        for (std::size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
        if (n > 0 && n < 8 && (static_cast<unsigned char>(data_[pos_ + n - 1]) & 0x80)) v |= ~std::uint64_t{0} << (8 * n);
        pos_ += n;
        stack.push_back(PickleValue::from_int(static_cast<std::int64_t>(v)));
        break;
      }
      case FLOAT: {
        const std::string line = read_line();
        try { stack.push_back(PickleValue::from_real(std::stod(line))); } catch (...) { fail("has a bad FLOAT"); }
        break;
      }
      case BINFLOAT: {
        const std::uint64_t be = read_u(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | ((be >> (8 * i)) & 0xFF);  // big-endian on disk
        double d;
        std::memcpy(&d, &bits, 8);
        stack.push_back(PickleValue::from_real(d));
        break;
      }
      case STRING: {
        std::string line = read_line();
        if (line.size() >= 2 && (line.front() == '\'' || line.front() == '"')) line = line.substr(1, line.size() - 2);
        stack.push_back(PickleValue::from_string(latin1_to_utf8(line)));
        break;
      }
      case BINSTRING: stack.push_back(PickleValue::from_string(latin1_to_utf8(read_bytes(read_u(4))))); break;
      case SHORT_BINSTRING: stack.push_back(PickleValue::from_string(latin1_to_utf8(read_bytes(read_u(1))))); break;
      case UNICODE: stack.push_back(PickleValue::from_string(read_line())); break;
      case BINUNICODE: stack.push_back(PickleValue::from_string(read_bytes(read_u(4)))); break;
      case SHORT_BINUNICODE: stack.push_back(PickleValue::from_string(read_bytes(read_u(1)))); break;
      case BINUNICODE8: stack.push_back(PickleValue::from_string(read_bytes(read_u(8)))); break;
      case BINBYTES: stack.push_back(PickleValue::from_bytes(read_bytes(read_u(4)))); break;
      case SHORT_BINBYTES: stack.push_back(PickleValue::from_bytes(read_bytes(read_u(1)))); break;
      case BINBYTES8:
      case BYTEARRAY8: stack.push_back(PickleValue::from_bytes(read_bytes(read_u(8)))); break;
      case EMPTY_LIST: stack.push_back(PickleValue::from_list({})); break;
      case EMPTY_TUPLE: stack.push_back(PickleValue::from_tuple({})); break;
      case EMPTY_DICT: stack.push_back(PickleValue::from_dict({})); break;
      case EMPTY_SET: stack.push_back(PickleValue::from_list({})); break;
      case LIST: stack.push_back(PickleValue::from_list(pop_mark())); break;
      case TUPLE: stack.push_back(PickleValue::from_tuple(pop_mark())); break;
      case FROZENSET: stack.push_back(PickleValue::from_list(pop_mark())); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const std::size_t n = op - TUPLE1 + 1;
        if (stack.size() < n) fail("builds a tuple from too few values");
        PickleList items(stack.end() - static_cast<std::ptrdiff_t>(n), stack.end());
        stack.resize(stack.size() - n);
        stack.push_back(PickleValue::from_tuple(std::move(items)));
        break;
      }
      case DICT: {
        PickleList kv = pop_mark();
        PickleValue d = PickleValue::from_dict({});
        set_items(d, kv);
        stack.push_back(std::move(d));
        break;
      }
      case APPEND: {
        PickleList one{pop()};
        append_items(top(), one);
        break;
      }
      case APPENDS:
      case ADDITEMS: {
        PickleList items = pop_mark();
        append_items(top(), items);
        break;
      }
      case SETITEM: {
        PickleValue v = pop();
        PickleValue k = pop();
        PickleList kv{std::move(k), std::move(v)};
        set_items(top(), kv);
        break;
      }
      case SETITEMS: {
        PickleList kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case GLOBAL: {
        std::string module = read_line();
        std::string name = read_line();
        stack.push_back(make_global(std::move(module), std::move(name)));
        break;
      }
      case STACK_GLOBAL: {
        PickleValue name = pop();
        PickleValue module = pop();
        if (!name.is(PickleValue::Type::string) || !module.is(PickleValue::Type::string)) fail("has a bad STACK_GLOBAL");
        stack.push_back(make_global(module.to_string(), name.to_string()));
        break;
      }
      case REDUCE: {
        PickleValue args = pop();
        PickleValue callable = pop();
        if (!args.is(PickleValue::Type::tuple)) fail("REDUCEs with a " + args.type_name() + " instead of a tuple");
        stack.push_back(call(callable, args.list()));
        break;
      }
      case NEWOBJ:
      case NEWOBJ_EX: {
        if (op == NEWOBJ_EX) pop();  // keyword arguments: not needed by anything we interpret
        PickleValue args = pop();
        PickleValue cls = pop();
        if (!cls.is(PickleValue::Type::object)) fail("NEWOBJ on a " + cls.type_name());
        PickleObject o;
        o.module = cls.object().module;
        o.name = cls.object().name;
        o.args = args.list();
        if (qualified(o) == "collections.OrderedDict") stack.push_back(PickleValue::from_dict({}));
        else stack.push_back(PickleValue::from_object(std::move(o)));
        break;
      }
      case INST: {
        std::string module = read_line();
        std::string name = read_line();
        PickleList args = pop_mark();
        stack.push_back(call(make_global(std::move(module), std::move(name)), std::move(args)));
        break;
      }
      case OBJ: {
        PickleList items = pop_mark();
        if (items.empty()) fail("has an OBJ without a class");
        PickleValue cls = items.front();
        items.erase(items.begin());
        stack.push_back(call(cls, std::move(items)));
        break;
      }
      case BUILD: {
        PickleValue state = pop();
        build(top(), std::move(state));
        break;
      }
      case PUT: memo[std::stoull(read_line())] = top(); break;
      case BINPUT: memo[read_u(1)] = top(); break;
      case LONG_BINPUT: memo[read_u(4)] = top(); break;
      case MEMOIZE: {
        const std::uint64_t key = memo.size();
        memo[key] = top();
        break;
      }
      case GET:
      case BINGET:
      case LONG_BINGET: {
        const std::uint64_t key = op == GET ? std::stoull(read_line()) : read_u(op == BINGET ? 1 : 4);
        auto it = memo.find(key);
        if (it == memo.end()) fail("reads memo entry " + std::to_string(key) + " that was never stored");
        stack.push_back(it->second);
        break;
      }
      case PERSID:
      case BINPERSID: {
        PickleValue pid = op == PERSID ? PickleValue::from_string(read_line()) : pop();
        if (!loader_) fail("has a persistent id but this file type defines none");
        stack.push_back(loader_(pid));
        break;
      }
      case EXT1:
      case EXT2:
      case EXT4: fail("uses the copyreg extension registry (EXT opcodes), which weight files never need"); break;
      case NEXT_BUFFER:
      case READONLY_BUFFER: fail("uses out-of-band buffers (pickle protocol 5), which are not supported"); break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("has an unknown opcode ") + hex + " (not a pickle, or a corrupt one)");
      }
    }
  }
}

}  // namespace prismer::detail
