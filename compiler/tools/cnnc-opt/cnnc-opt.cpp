//===- cnnc-opt.cpp - Run cnnc's passes on .mlir files --------------------===//
//
// The `mlir-opt` of cnnc: parses .mlir with the cnn dialect registered and
// runs any of cnnc's passes alone, so that each pass is tested on its own
// (`cnnc-opt --cnn-shape-inference file.mlir`).
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/Dialect.h"
#include "mlir/Support/MlirOptMain.h"

int main(int argc, char **argv) {
  cnnc::registerCNNPasses();
  mlir::DialectRegistry registry;
  registry.insert<cnnc::cnn::CNNDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "cnnc optimizer driver\n", registry));
}
