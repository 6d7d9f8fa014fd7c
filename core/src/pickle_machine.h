// The pickle virtual machine behind every weight-file reader (internal to libprismer_core).
#pragma once

#include <prismer/pickle.h>

#include <cstddef>
#include <functional>
#include <string>

namespace prismer::detail {

/// Turns a persistent id (torch's storage tuples) into a value: the loaders supply it.
using PersistentLoader = std::function<PickleValue(const PickleValue& persistent_id)>;

/// Runs pickle opcodes (protocols 0-5, in-band data) until STOP. Throws std::runtime_error
/// "SOURCE: pickle ..." on truncated or foreign data; never imports or executes what the data names.
class PickleMachine {
 public:
  PickleMachine(const char* data, std::size_t size, std::string source, PersistentLoader loader = {});
  /// Unpickles one object starting at the current position.
  PickleValue load();
  /// Bytes consumed so far (the legacy torch format stores raw data after several pickles).
  std::size_t position() const { return pos_; }

 private:
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string source_;
  PersistentLoader loader_;
};

/// The tensor an unpickled value holds: a torch tensor, or a numpy array rebuilt by the machine.
/// Returns nullptr for anything else.
const torch::Tensor* as_tensor(const PickleValue& value);

}  // namespace prismer::detail
