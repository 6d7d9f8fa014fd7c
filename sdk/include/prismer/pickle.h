// Python pickle data, read without Python: the values a weight file can hold.
//
// The reader is a small pickle virtual machine of our own. It never imports or executes anything a
// file names: a GLOBAL is only a name; the few callables weight files need (tensor and numpy array
// rebuilding, OrderedDict, latin-1 bytes) are interpreted, every other call becomes an inert Object.
#pragma once

#include <prismer/export.h>

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prismer {

class PickleValue;
using PickleList = std::vector<PickleValue>;
using PickleDict = std::vector<std::pair<PickleValue, PickleValue>>;  ///< insertion order kept

/// A Python object that the reader does not interpret: class name, constructor arguments and the
/// state BUILD gave it (e.g. a scikit-learn PCA with its `__dict__`).
struct PickleObject {
  std::string module;
  std::string name;
  bool is_class = false;  ///< a bare reference to a class or function (GLOBAL), not an instance
  PickleList args;
  std::shared_ptr<PickleValue> state;
};

/// One unpickled value. Lists, dicts and objects have reference semantics, as in Python.
class PRISMER_API PickleValue {
 public:
  enum class Type { none, boolean, integer, real, string, bytes, list, tuple, dict, tensor, object };

  PickleValue() = default;
  static PickleValue from_bool(bool v);
  static PickleValue from_int(std::int64_t v);
  static PickleValue from_real(double v);
  static PickleValue from_string(std::string v);
  static PickleValue from_bytes(std::string v);
  static PickleValue from_list(PickleList v);
  static PickleValue from_tuple(PickleList v);
  static PickleValue from_dict(PickleDict v);
  static PickleValue from_tensor(torch::Tensor v);
  static PickleValue from_object(PickleObject v);

  Type type() const { return type_; }
  bool is(Type t) const { return type_ == t; }
  /// Python-style name of the type, for messages.
  std::string type_name() const;

  bool to_bool() const;
  std::int64_t to_int() const;
  double to_real() const;  ///< ints convert too
  const std::string& to_string() const;  ///< str or bytes
  PickleList& list() const;  ///< list or tuple
  PickleDict& dict() const;
  const torch::Tensor& tensor() const;
  PickleObject& object() const;

  /// Dict lookup by string key; nullptr when absent or not a dict.
  const PickleValue* find(const std::string& key) const;

 private:
  Type type_ = Type::none;
  std::int64_t int_ = 0;
  double real_ = 0.0;
  std::shared_ptr<std::string> str_;
  std::shared_ptr<PickleList> list_;
  std::shared_ptr<PickleDict> dict_;
  std::shared_ptr<torch::Tensor> tensor_;
  std::shared_ptr<PickleObject> object_;
};

}  // namespace prismer
