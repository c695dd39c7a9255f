//===- GraphShapes.cpp - Shapes of an elaborated graph --------------------===//
#include "cnnc/Transforms/GraphShapes.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/MLIRGen/MLIRGen.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace cnnc {

std::optional<std::vector<int64_t>> inferOutputShape(mlir::MLIRContext &context, const Graph &graph,
                                                     llvm::StringRef fileName) {
  mlir::OwningOpRef<mlir::ModuleOp> ir = mlirGen(context, graph, fileName);
  if (!ir)
    return std::nullopt;
  mlir::PassManager pm(&context);
  pm.nest<mlir::FuncOp>().addPass(createShapeInferencePass());
  if (mlir::failed(pm.run(*ir)))
    return std::nullopt;
  for (mlir::FuncOp func : ir->getOps<mlir::FuncOp>())
    for (mlir::Operation &op : func.getBody().front())
      if (auto ret = llvm::dyn_cast<cnn::ReturnOp>(op)) {
        auto type = ret.outputs()[0].getType().dyn_cast<mlir::RankedTensorType>();
        if (!type)
          return std::nullopt;
        return std::vector<int64_t>(type.getShape().begin() + 1, type.getShape().end());
      }
  return std::nullopt;
}

} // namespace cnnc
