//===- Diagnostics.h - Located, clang-style diagnostics --------*- C++ -*-===//
//
// Every user-facing error of cnnc goes through a DiagnosticEngine. It owns the
// source text so that it can print the offending line with a caret under the
// mistake:
//
//   model.cnn:3:5: error: unknown layer `convv`; did you mean `conv`?
//     convv(16, kernel: 3)
//     ^~~~~
//
// The frontend never aborts on bad input: it reports and carries on or returns
// failure; asserts guard only internal invariants.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_DIAGNOSTICS_H
#define CNNC_DSL_DIAGNOSTICS_H

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cnnc {

/// A position in a source file, 1-based line and column (0 means "unknown").
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool isValid() const { return line != 0; }
};

/// A half-open range on one line or more: [begin, end).
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceRange range;
  std::string message;
};

/// Collects and prints diagnostics for one source buffer.
class DiagnosticEngine {
public:
  DiagnosticEngine(std::string fileName, std::string_view source);

  void error(SourceRange range, std::string message);
  void warning(SourceRange range, std::string message);
  void note(SourceRange range, std::string message);
  void report(Severity severity, SourceRange range, std::string message);

  unsigned errorCount() const { return errors; }
  bool hasErrors() const { return errors != 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags; }
  const std::string &fileName() const { return file; }

  /// Print one diagnostic in clang style: header, source line, caret line.
  void print(std::ostream &os, const Diagnostic &d) const;
  /// Print every diagnostic collected so far, in order.
  void printAll(std::ostream &os) const;
  /// When set, diagnostics are printed as they are reported.
  void setStream(std::ostream *os) { stream = os; }

  /// The text of line `line` (1-based), without its newline.
  std::string_view lineText(uint32_t line) const;

private:
  std::string file;
  std::string text;
  std::vector<size_t> lineStarts;
  std::vector<Diagnostic> diags;
  std::ostream *stream = nullptr;
  unsigned errors = 0;
};

} // namespace cnnc

#endif // CNNC_DSL_DIAGNOSTICS_H
