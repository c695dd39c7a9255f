//===- cnnc.cpp - The cnnc compiler driver --------------------------------===//
//
// `cnnc model.cnn [--emit=STAGE] [--report] [--report-format=text|json]`
//
// Runs the pipeline and stops where asked: `--emit=ast` prints the parse
// tree, `--emit=graph` the elaborated layer graph, `--emit=mlir-gen` the cnn
// dialect before shape inference, `--emit=mlir` after it. `--report` prints
// the per-layer shape / parameter / MAC / receptive-field report. Without
// either, cnnc checks the network and prints nothing. Every error is a
// located diagnostic on stderr and exit code 1; nothing is written on error.
//
//===----------------------------------------------------------------------===//
#include "cnnc/DSL/Elaborator.h"
#include "cnnc/DSL/Parser.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/MLIRGen/MLIRGen.h"
#include "cnnc/Report/ReportBuilder.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

/// Routes MLIR diagnostics (shape errors) through the frontend's printer, so
/// that they look like every other error: file:line:col, source line, caret.
cnnc::Severity severityOf(mlir::DiagnosticSeverity s) {
  switch (s) {
  case mlir::DiagnosticSeverity::Error:
    return cnnc::Severity::Error;
  case mlir::DiagnosticSeverity::Warning:
    return cnnc::Severity::Warning;
  default:
    return cnnc::Severity::Note;
  }
}

cnnc::SourceRange rangeOf(mlir::Location loc) {
  if (auto file = loc.dyn_cast<mlir::FileLineColLoc>())
    return {{file.getLine(), file.getColumn()}, {file.getLine(), file.getColumn()}};
  return {};
}

int run(int argc, char **argv) {
  CLI::App app{"cnnc: compile a .cnn network description"};
  std::string input, emit, reportFormat = "text", network;
  bool report = false;
  app.add_option("input", input, "the .cnn file")->required();
  app.add_option("--emit", emit, "print a pipeline stage: ast, graph, mlir-gen, mlir")
      ->check(CLI::IsMember({"ast", "graph", "mlir-gen", "mlir"}));
  app.add_flag("--report", report, "print the per-layer report");
  app.add_option("--report-format", reportFormat, "text or json (implies --report)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--network", network, "the network to compile when the file has several");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  if (app.count("--report-format"))
    report = true;

  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::cerr << "cnnc: error: cannot read '" << input << "': " << std::strerror(errno) << "\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string source = buffer.str();

  cnnc::DiagnosticEngine diags(input, source);
  diags.setStream(&std::cerr);
  std::optional<cnnc::Module> module = cnnc::parseSource(source, diags);
  if (!module)
    return 1;
  if (emit == "ast") {
    cnnc::printAST(std::cout, *module);
    return 0;
  }
  const cnnc::NetworkDef *net = cnnc::selectNetwork(*module, network, diags);
  if (!net)
    return 1;
  std::optional<cnnc::Graph> graph = cnnc::elaborate(*module, *net, diags);
  if (!graph)
    return 1;
  if (emit == "graph") {
    cnnc::printGraph(std::cout, *graph);
    return 0;
  }

  mlir::MLIRContext context;
  context.getOrLoadDialect<cnnc::cnn::CNNDialect>();
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diags.report(severityOf(d.getSeverity()), rangeOf(d.getLocation()), d.str());
    for (mlir::Diagnostic &note : d.getNotes())
      diags.report(cnnc::Severity::Note, rangeOf(note.getLocation()), note.str());
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> ir = cnnc::mlirGen(context, *graph, input);
  if (emit == "mlir-gen") {
    ir->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  mlir::PassManager pm(&context);
  cnnc::buildShapePipeline(pm);
  if (mlir::failed(pm.run(*ir)))
    return 1;
  if (emit == "mlir") {
    ir->print(llvm::outs());
    llvm::outs() << "\n";
    llvm::outs().flush();
  }
  if (report) {
    llvm::outs().flush();
    for (mlir::FuncOp func : ir->getOps<mlir::FuncOp>()) {
      mlir::FailureOr<cnnc::NetworkReport> r = cnnc::buildReport(func);
      if (mlir::failed(r))
        return 1;
      if (reportFormat == "json")
        cnnc::printReportJson(std::cout, *r);
      else
        cnnc::printReportText(std::cout, *r);
    }
  }
  return diags.hasErrors() ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) { return run(argc, argv); }
