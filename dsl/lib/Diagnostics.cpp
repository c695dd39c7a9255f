//===- Diagnostics.cpp - Located, clang-style diagnostics -----------------===//
#include "cnnc/DSL/Diagnostics.h"

#include <algorithm>

namespace cnnc {

DiagnosticEngine::DiagnosticEngine(std::string fileName, std::string_view source)
    : file(std::move(fileName)), text(source) {
  lineStarts.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n')
      lineStarts.push_back(i + 1);
}

void DiagnosticEngine::error(SourceRange range, std::string message) {
  report(Severity::Error, range, std::move(message));
}
void DiagnosticEngine::warning(SourceRange range, std::string message) {
  report(Severity::Warning, range, std::move(message));
}
void DiagnosticEngine::note(SourceRange range, std::string message) {
  report(Severity::Note, range, std::move(message));
}

void DiagnosticEngine::report(Severity severity, SourceRange range, std::string message) {
  if (severity == Severity::Error)
    ++errors;
  diags.push_back({severity, range, std::move(message)});
  if (stream)
    print(*stream, diags.back());
}

std::string_view DiagnosticEngine::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts.size())
    return {};
  size_t begin = lineStarts[line - 1];
  size_t end = line < lineStarts.size() ? lineStarts[line] - 1 : text.size();
  std::string_view view(text);
  view = view.substr(begin, end - begin);
  if (!view.empty() && view.back() == '\r')
    view.remove_suffix(1);
  return view;
}

static const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

void DiagnosticEngine::print(std::ostream &os, const Diagnostic &d) const {
  os << file;
  if (d.range.begin.isValid())
    os << ':' << d.range.begin.line << ':' << d.range.begin.col;
  os << ": " << severityName(d.severity) << ": " << d.message << '\n';
  if (!d.range.begin.isValid())
    return;
  std::string_view line = lineText(d.range.begin.line);
  if (line.empty() && d.range.begin.col > 1)
    return;
  os << "  " << line << '\n';
  // Tabs in the source line are kept in the caret line so the caret aligns.
  std::string caret = "  ";
  uint32_t col = d.range.begin.col;
  for (uint32_t i = 1; i < col && i - 1 < line.size(); ++i)
    caret += line[i - 1] == '\t' ? '\t' : ' ';
  caret += '^';
  uint32_t endCol = d.range.end.line == d.range.begin.line ? d.range.end.col : 0;
  endCol = std::min<uint32_t>(endCol, static_cast<uint32_t>(line.size()) + 1);
  for (uint32_t i = col + 1; i < endCol; ++i)
    caret += '~';
  os << caret << '\n';
}

void DiagnosticEngine::printAll(std::ostream &os) const {
  for (const Diagnostic &d : diags)
    print(os, d);
}

} // namespace cnnc
