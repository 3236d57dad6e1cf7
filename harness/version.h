// The harness's version and the git revision it was built from, recorded with every experiment.
// Defined in a file generated at configure time (harness/version.cpp.in), so a new commit
// recompiles that one small file, not every file of the engine.
#pragma once

namespace harness {

const char* harness_version();
const char* git_revision();  // `git rev-parse --short HEAD` at configure time, or "unknown"

}  // namespace harness
