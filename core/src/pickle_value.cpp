// PickleValue: constructors, accessors and type checks.
#include <prismer/pickle.h>

#include <stdexcept>

namespace prismer {

namespace {
[[noreturn]] void wrong_type(const PickleValue& v, const char* wanted) {
  throw std::runtime_error(std::string("pickle: expected ") + wanted + ", got " + v.type_name());
}
}  // namespace

PickleValue PickleValue::from_bool(bool v) {
  PickleValue p;
  p.type_ = Type::boolean;
  p.int_ = v ? 1 : 0;
  return p;
}
PickleValue PickleValue::from_int(std::int64_t v) {
  PickleValue p;
  p.type_ = Type::integer;
  p.int_ = v;
  return p;
}
PickleValue PickleValue::from_real(double v) {
  PickleValue p;
  p.type_ = Type::real;
  p.real_ = v;
  return p;
}
PickleValue PickleValue::from_string(std::string v) {
  PickleValue p;
  p.type_ = Type::string;
  p.str_ = std::make_shared<std::string>(std::move(v));
  return p;
}
PickleValue PickleValue::from_bytes(std::string v) {
  PickleValue p = from_string(std::move(v));
  p.type_ = Type::bytes;
  return p;
}
PickleValue PickleValue::from_list(PickleList v) {
  PickleValue p;
  p.type_ = Type::list;
  p.list_ = std::make_shared<PickleList>(std::move(v));
  return p;
}
PickleValue PickleValue::from_tuple(PickleList v) {
  PickleValue p = from_list(std::move(v));
  p.type_ = Type::tuple;
  return p;
}
PickleValue PickleValue::from_dict(PickleDict v) {
  PickleValue p;
  p.type_ = Type::dict;
  p.dict_ = std::make_shared<PickleDict>(std::move(v));
  return p;
}
PickleValue PickleValue::from_tensor(torch::Tensor v) {
  PickleValue p;
  p.type_ = Type::tensor;
  p.tensor_ = std::make_shared<torch::Tensor>(std::move(v));
  return p;
}
PickleValue PickleValue::from_object(PickleObject v) {
  PickleValue p;
  p.type_ = Type::object;
  p.object_ = std::make_shared<PickleObject>(std::move(v));
  return p;
}

std::string PickleValue::type_name() const {
  switch (type_) {
    case Type::none: return "None";
    case Type::boolean: return "bool";
    case Type::integer: return "int";
    case Type::real: return "float";
    case Type::string: return "str";
    case Type::bytes: return "bytes";
    case Type::list: return "list";
    case Type::tuple: return "tuple";
    case Type::dict: return "dict";
    case Type::tensor: return "tensor";
    case Type::object: return object_->module + "." + object_->name;
  }
  return "?";
}

bool PickleValue::to_bool() const {
  if (type_ == Type::boolean || type_ == Type::integer) return int_ != 0;
  wrong_type(*this, "bool");
}
std::int64_t PickleValue::to_int() const {
  if (type_ == Type::integer || type_ == Type::boolean) return int_;
  wrong_type(*this, "int");
}
double PickleValue::to_real() const {
  if (type_ == Type::real) return real_;
  if (type_ == Type::integer || type_ == Type::boolean) return static_cast<double>(int_);
  wrong_type(*this, "float");
}
const std::string& PickleValue::to_string() const {
  if (type_ == Type::string || type_ == Type::bytes) return *str_;
  wrong_type(*this, "str");
}
PickleList& PickleValue::list() const {
  if (type_ == Type::list || type_ == Type::tuple) return *list_;
  wrong_type(*this, "list or tuple");
}
PickleDict& PickleValue::dict() const {
  if (type_ == Type::dict) return *dict_;
  wrong_type(*this, "dict");
}
const torch::Tensor& PickleValue::tensor() const {
  if (type_ == Type::tensor) return *tensor_;
  wrong_type(*this, "tensor");
}
PickleObject& PickleValue::object() const {
  if (type_ == Type::object) return *object_;
  wrong_type(*this, "object");
}

const PickleValue* PickleValue::find(const std::string& key) const {
  if (type_ != Type::dict) return nullptr;
  for (const auto& [k, v] : *dict_)
    if (k.is(Type::string) && k.to_string() == key) return &v;
  return nullptr;
}

}  // namespace prismer
