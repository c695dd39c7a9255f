//===- ParserFuzzer.cpp - libFuzzer target for the .cnn frontend ----------===//
//
// Feeds arbitrary bytes through the lexer, parser, AST printer and
// elaborator of every network. Any crash, sanitizer report, leak or hang is a
// bug: the frontend must answer every input with a result or a diagnostic.
//
//===----------------------------------------------------------------------===//
#include "cnnc/DSL/Elaborator.h"
#include "cnnc/DSL/Parser.h"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view source(reinterpret_cast<const char *>(data), size);
  cnnc::DiagnosticEngine diags("fuzz.cnn", source);
  std::optional<cnnc::Module> module = cnnc::parseSource(source, diags);
  std::ostringstream sink;
  if (module) {
    cnnc::printAST(sink, *module);
    for (const cnnc::NetworkDef &net : module->networks)
      if (auto graph = cnnc::elaborate(*module, net, diags))
        cnnc::printGraph(sink, *graph);
  }
  diags.printAll(sink);
  return 0;
}
