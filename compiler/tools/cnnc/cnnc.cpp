//===- cnnc.cpp - The cnnc compiler driver --------------------------------===//
//
// `cnnc model.cnn [-o model.so] [--emit=STAGE] [--report] [--target=T] ...`
//
// Runs the pipeline and stops where asked: `--emit=ast` prints the parse
// tree, `--emit=graph` the elaborated layer graph, `--emit=mlir-gen` the cnn
// dialect before shape inference, `--emit=mlir` after it, `--emit=plan` the
// code generation plan (fused steps). With `-o`, cnnc generates code:
// `--emit=so` (the default), `object`, `static-lib`, `header` or `stmt`
// (Halide's loop nests). `--report` prints the per-layer shape / parameter /
// MAC / receptive-field report. Without any of these, cnnc checks the
// network and prints nothing. Every error is a message on stderr and exit
// code 1; nothing is written on error.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/PlanBuilder.h"
#include "cnnc/Conversion/HalideLowering.h"
#include "cnnc/DSL/Elaborator.h"
#include "cnnc/DSL/Parser.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/MLIRGen/MLIRGen.h"
#include "cnnc/Report/ReportBuilder.h"
#include "cnnc/Target/ArtifactBuilder.h"
#include "cnnc/Target/DeviceApi.h"
#include "cnnc/Target/ObjectCache.h"
#include "cnnc/Transforms/GraphShapes.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

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

/// "image=3x112x112" -> {"image", {3, 112, 112}}; nullopt when malformed.
std::optional<std::pair<std::string, std::vector<int64_t>>>
parseInputShape(const std::string &arg) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    return std::nullopt;
  std::vector<int64_t> dims;
  std::string rest = arg.substr(eq + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t x = rest.find('x', start);
    std::string part = rest.substr(start, x == std::string::npos ? std::string::npos : x - start);
    if (part.empty() || part.size() > 12 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    int64_t d = std::stoll(part);
    if (d <= 0)
      return std::nullopt;
    dims.push_back(d);
    if (x == std::string::npos)
      break;
    start = x + 1;
  }
  return std::make_pair(arg.substr(0, eq), dims);
}

const std::map<std::string, cnnc::ArtifactKind> kArtifacts = {
    {"so", cnnc::ArtifactKind::SharedLibrary},
    {"object", cnnc::ArtifactKind::Object},
    {"static-lib", cnnc::ArtifactKind::StaticLibrary},
    {"header", cnnc::ArtifactKind::Header},
    {"stmt", cnnc::ArtifactKind::Stmt}};

int run(int argc, char **argv) {
  CLI::App app{"cnnc: compile a .cnn network description"};
  std::string input, emit, reportFormat = "text", network, output, target = "host", weights;
  bool report = false, verbose = false, noCache = false;
  int jobs = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  app.add_option("input", input, "the .cnn file")->required();
  app.add_option("--emit", emit,
                 "a stage to print (ast, graph, mlir-gen, mlir, plan) or an artifact to write "
                 "with -o (so, object, static-lib, header, stmt)")
      ->check(CLI::IsMember({"ast", "graph", "mlir-gen", "mlir", "plan", "so", "object",
                             "static-lib", "header", "stmt"}));
  app.add_option("-o,--output", output, "the file to write (model.so; model.h goes beside it)");
  app.add_option("--target", target,
                 "host (default), cuda (this CPU and an NVIDIA GPU of compute capability "
                 "8.0 or later), opencl, or a Halide target such as x86-64-linux-avx2 or "
                 "host-cuda-cuda_capability_86 (docs/gpu.md)");
  app.add_option("--embed-weights", weights, "a safetensors file to bake into the library");
  app.add_option("-j,--jobs", jobs, "parallel compile jobs")->check(CLI::Range(1, 64));
  app.add_flag("-v,--verbose", verbose, "print the time of each code generation step");
  app.add_flag("--no-cache", noCache,
               "compile every function, neither reading nor writing the object cache "
               "(CNNC_CACHE_DIR; CNNC_CACHE=off does the same)");
  app.add_flag("--report", report, "print the per-layer report");
  app.add_option("--report-format", reportFormat, "text or json (implies --report)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--network", network, "the network to compile when the file has several");
  std::vector<std::string> inputShapeArgs;
  app.add_option("--input-shape", inputShapeArgs,
                 "NAME=CxHxW: compile for another input size than the file declares "
                 "(repeatable, one per input)");
  // A bad command line is a usage error: the tool's error prefix, exit 2.
  app.failure_message([](const CLI::App *, const CLI::Error &e) {
    return std::string("cnnc: error: ") + e.what() + "\nRun with --help for more information.\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2; // --help exits 0
  }
  if (app.count("--report-format"))
    report = true;
  bool codegen = !output.empty() || kArtifacts.count(emit);
  if (kArtifacts.count(emit) && output.empty()) {
    std::cerr << "cnnc: error: --emit=" << emit << " writes a file: give it with -o\n";
    return 1;
  }
  if (!output.empty() && (emit == "ast" || emit == "graph" || emit == "mlir-gen")) {
    std::cerr << "cnnc: error: -o writes generated code; --emit=" << emit
              << " stops before code generation\n";
    return 1;
  }
  if (!weights.empty() && !emit.empty() && emit != "so" && emit != "plan") {
    std::cerr << "cnnc: error: --embed-weights applies to the shared library (--emit=so)\n";
    return 1;
  }
  std::string targetError;
  std::string canonical = cnnc::canonicalTarget(target, targetError);
  if (canonical.empty()) {
    std::cerr << "cnnc: error: " << targetError << "\n";
    return 1;
  }

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
  cnnc::InputShapes inputShapes;
  for (const std::string &arg : inputShapeArgs) {
    std::optional<std::pair<std::string, std::vector<int64_t>>> parsed = parseInputShape(arg);
    if (!parsed) {
      std::cerr << "cnnc: error: --input-shape '" << arg
                << "': expected NAME=CxHxW (positive integers), e.g. image=3x112x112\n";
      return 1;
    }
    if (!inputShapes.emplace(parsed->first, parsed->second).second) {
      std::cerr << "cnnc: error: --input-shape gives input '" << parsed->first << "' twice\n";
      return 1;
    }
  }
  mlir::MLIRContext context;
  // No worker threads: code generation forks compile jobs.
  context.disableMultithreading();
  context.getOrLoadDialect<cnnc::cnn::CNNDialect>();
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diags.report(severityOf(d.getSeverity()), rangeOf(d.getLocation()), d.str());
    for (mlir::Diagnostic &note : d.getNotes())
      diags.report(cnnc::Severity::Note, rangeOf(note.getLocation()), note.str());
    return mlir::success();
  });
  // `in_channels` is answered by the dialect's shape rules.
  cnnc::ShapeOracle shapes = [&](const cnnc::Graph &prefix) {
    return cnnc::inferOutputShape(context, prefix, input);
  };
  std::optional<cnnc::Graph> graph = cnnc::elaborate(*module, *net, diags, inputShapes, shapes);
  if (!graph)
    return 1;
  if (emit == "graph") {
    cnnc::printGraph(std::cout, *graph);
    return 0;
  }

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
  if (emit != "plan" && !codegen)
    return diags.hasErrors() ? 1 : 0;
  mlir::FuncOp func = *ir->getOps<mlir::FuncOp>().begin();
  cnnc::PlanOptions planOptions;
  if (const cnnc::DeviceApi *api = cnnc::deviceApiOf(canonical))
    planOptions.concatsInPlace = api->viewsAtAnyOffset;
  mlir::FailureOr<cnnc::plan::ModelPlan> plan = cnnc::buildPlan(func, planOptions);
  if (mlir::failed(plan))
    return 1;
  if (emit == "plan") {
    std::cout.flush();
    cnnc::plan::printPlan(std::cout, *plan);
    if (!codegen)
      return 0;
  }
  cnnc::ArtifactOptions options;
  options.kind = kArtifacts.count(emit) ? kArtifacts.at(emit) : cnnc::ArtifactKind::SharedLibrary;
  options.output = output;
  options.target = canonical;
  options.embedWeights = weights;
  options.resourceDir = cnnc::defaultResourceDir();
  options.jobs = jobs;
  options.verbose = verbose;
  if (!noCache)
    options.cacheDir = cnnc::ObjectCache::fromEnvironment().directory();
  if (const char *cc = std::getenv("CC"))
    options.cc = cc;
  if (const char *cxx = std::getenv("CXX"))
    options.cxx = cxx;
  std::string error;
  if (!cnnc::buildArtifact(*plan, options, std::cerr, error)) {
    std::cerr << "cnnc: error: " << error << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) { return run(argc, argv); }
