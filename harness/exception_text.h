// The message of an exception as a user should read it: LibTorch's c10::Error appends a C++
// backtrace to what(), which belongs in a debugger, not in a trial's recorded error or on stderr.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace harness {

inline std::string exception_text(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

}  // namespace harness
