//===- ReportBuilder.h - Report from a cnn function ------------*- C++ -*-===//
#ifndef CNNC_REPORT_REPORTBUILDER_H
#define CNNC_REPORT_REPORTBUILDER_H

#include "cnnc/Report/Report.h"

#include "mlir/IR/BuiltinOps.h"

namespace cnnc {

/// Builds the report of a network function whose shapes are inferred and
/// whose projections are materialized. Receptive fields of multi-branch
/// merges take the largest field over the branches and note when branches
/// disagree in jump or alignment.
mlir::FailureOr<NetworkReport> buildReport(mlir::FuncOp func);

} // namespace cnnc

#endif // CNNC_REPORT_REPORTBUILDER_H
