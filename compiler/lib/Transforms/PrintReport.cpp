//===- PrintReport.cpp - The report as a pass -----------------------------===//
//
// Contract: shapes inferred, projections materialized. Prints each network's
// report to stdout (text or json) and leaves the IR unchanged; lets lit tests
// report on any .mlir file through cnnc-opt.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Report/ReportBuilder.h"
#include "cnnc/Transforms/Passes.h"

#include <iostream>

using namespace mlir;

namespace cnnc {
#define GEN_PASS_CLASSES
#include "cnnc/Transforms/Passes.h.inc"

namespace {
struct PrintReportPass : public PrintReportBase<PrintReportPass> {
  void runOnOperation() override {
    if (format != "text" && format != "json") {
      getOperation().emitError("cnn-print-report: format must be text or json");
      return signalPassFailure();
    }
    for (FuncOp func : getOperation().getOps<FuncOp>()) {
      FailureOr<NetworkReport> report = buildReport(func);
      if (failed(report))
        return signalPassFailure();
      if (format == "json")
        printReportJson(std::cout, *report);
      else
        printReportText(std::cout, *report);
    }
    std::cout.flush();
  }
};
} // namespace

std::unique_ptr<Pass> createPrintReportPass() { return std::make_unique<PrintReportPass>(); }

} // namespace cnnc
