// Text clean-up errors (empty after clean-up, not UTF-8) re-thrown with the list file and entry index.
#pragma once

#include "prismer/data/text_clean.h"
#include "prismer/datasets/json_list.h"

#include <stdexcept>
#include <string>

namespace prismer::datasets {

/// Runs `fn` (which cleans entry `i`'s text) and reports its errors as "FILE: entry I: ...".
template <typename Fn>
void with_text_errors(const JsonList& list, std::size_t i, Fn&& fn) {
  try {
    fn();
  } catch (const std::out_of_range& e) {
    list.fail(i, std::string("the text is empty after clean-up (") + e.what() + ")");
  } catch (const data::TextDecodeError& e) {
    list.fail(i, std::string("the text is not UTF-8 (") + e.what() + ")");
  }
}

}  // namespace prismer::datasets
