//===- HalideErrors.cpp - Where the Halide runtime's messages go ----------===//
//
// The Halide runtime reports errors through halide_error, which calls a
// process-wide handler (stderr by default) that halide_set_error_handler
// replaces. Setting that handler on every cnnc_create was a data race
// between threads creating contexts, and replaced an application's own
// handler. This definition replaces the runtime's weak halide_error (as
// DeviceLibraries.cpp does for the driver lookups): a message goes to the
// calling thread's halideMessage (ModelContext.h), which the failing call's
// error text quotes, and nothing is printed or shared between threads.
//
//===----------------------------------------------------------------------===//
#include "ModelContext.h"

extern "C" void halide_error(void *, const char *message) {
  std::string &all = cnnc::rt::halideMessage;
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  if (!text.empty())
    all += (all.empty() ? "" : "; ") + text; // one call may report several
}
