//===- Report.h - The shape and receptive-field report ---------*- C++ -*-===//
//
// What `cnnc --report` prints, as data: per layer in order, its output shape,
// parameters, multiply-accumulates and the receptive field of one output
// unit; then the totals. Built from a shape-inferred cnn function
// (ReportBuilder), printed as a text table or as JSON (docs/reports.md holds
// the schema). This header needs no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_REPORT_REPORT_H
#define CNNC_REPORT_REPORT_H

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cnnc {

/// Receptive field of one unit along H and W.
struct FieldReport {
  int64_t size[2] = {1, 1};
  int64_t jump[2] = {1, 1};
  double start[2] = {0.5, 0.5};
};

struct LayerReport {
  std::string name;
  std::string op;                  // conv2d, max_pool2d, ...
  std::vector<std::string> inputs; // producing layers (or network inputs)
  std::vector<int64_t> shape;      // without the batch: CxHxW or F
  int64_t params = 0;              // learned parameters
  int64_t trainableParams = 0;     // learned and not frozen
  int64_t buffers = 0;             // running statistics
  int64_t macs = 0;                // multiply-accumulates for batch 1
  /// The receptive field; absent when every unit sees the whole input
  /// (after dense or global pooling).
  std::optional<FieldReport> field;
  std::vector<std::string> notes;
};

struct TensorReport {
  std::string name;
  std::vector<int64_t> shape;
};

struct NetworkReport {
  std::string network;
  std::vector<TensorReport> inputs;
  std::vector<LayerReport> layers;
  std::vector<TensorReport> outputs;
  int64_t totalParams = 0;
  int64_t trainableParams = 0;
  int64_t buffers = 0;
  int64_t macs = 0;
  int64_t activationBytes = 0; // every input and layer output, batch 1, float32
};

void printReportText(std::ostream &os, const NetworkReport &report);
void printReportJson(std::ostream &os, const NetworkReport &report);

} // namespace cnnc

#endif // CNNC_REPORT_REPORT_H
