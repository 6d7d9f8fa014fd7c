// The common base of everything a plugin creates.
#pragma once

#include <prismer/export.h>

namespace prismer {

/// Base of the four plugin interfaces (Expert, Backbone, Task, Dataset).
///
/// Its destructor is defined out of line in libprismer_core (its "key function"), so the type
/// information of every interface lives in one library and is shared by all plugins.
class PRISMER_API Component {
 public:
  virtual ~Component();
};

}  // namespace prismer
