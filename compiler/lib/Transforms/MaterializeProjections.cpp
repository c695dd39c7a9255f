//===- MaterializeProjections.cpp - Residual shortcut projections ---------===//
//
// Contract: shapes are inferred. Each `cnn.project` becomes the identity when
// its input already has its reference's shape, and otherwise torchvision's
// `downsample`: a 1x1 conv without bias, stride chosen so that the spatial
// size matches, then a batchnorm, named `<layer>.0` and `<layer>.1`. The new
// ops get their shapes at once through the same shape rules.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/LayerAttributes.h"
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace cnnc {
#define GEN_PASS_CLASSES
#include "cnnc/Transforms/Passes.h.inc"

namespace {

/// The stride s for which a 1x1 window maps `in` to `out` pixels, if any.
llvm::Optional<int64_t> strideFor(int64_t in, int64_t out) {
  for (int64_t s = 1; s <= in; ++s) {
    Window w;
    w.stride = s;
    if (windowOutputSize(in, w) == out)
      return s;
  }
  return llvm::None;
}

LogicalResult materialize(cnn::ProjectOp op) {
  auto in = op.input().getType().cast<RankedTensorType>().getShape();
  auto ref = op.reference().getType().cast<RankedTensorType>().getShape();
  if (in.drop_front() == ref.drop_front()) {
    op.output().replaceAllUsesWith(op.input());
    op.erase();
    return success();
  }
  if (in.size() != 4 || ref.size() != 4)
    return op.emitError("project `") << op.layer() << "` can only project CxHxW tensors";
  llvm::Optional<int64_t> sh = strideFor(in[2], ref[2]), sw = strideFor(in[3], ref[3]);
  if (!sh || !sw)
    return op.emitError("project `") << op.layer() << "`: no 1x1 strided convolution maps " << in[2]
                                     << "x" << in[3] << " to " << ref[2] << "x" << ref[3];

  OpBuilder b(op);
  Type unranked = UnrankedTensorType::get(b.getF32Type());
  std::string conv = op.layer().str() + ".0", bn = op.layer().str() + ".1";
  auto param = [&](const std::string &name, bool buffer) {
    auto p = b.create<cnn::ParamOp>(op.getLoc(), unranked, b.getStringAttr(name),
                                    buffer ? b.getUnitAttr() : UnitAttr(),
                                    op.frozen() && !buffer ? b.getUnitAttr() : UnitAttr());
    return p.getResult();
  };
  mlir::Value weight = param(conv + ".weight", false);
  // The conv and batchnorm as `conv(filters, 1, stride: s, bias: false)` and
  // `batchnorm` would be written: every other parameter at its default.
  SmallVector<NamedAttribute, 10> convAttrs{b.getNamedAttr("layer", b.getStringAttr(conv))};
  convAttrs.append(cnn::layerAttributes(b, layerSpecFor(LayerKind::Conv),
                                        {{"filters", cnnc::Value::integer(ref[1])},
                                         {"kernel", cnnc::Value::ints({1, 1})},
                                         {"stride", cnnc::Value::ints({*sh, *sw})}}));
  auto convOp = b.create<cnn::Conv2DOp>(op.getLoc(), TypeRange{unranked},
                                        ValueRange{op.input(), weight}, convAttrs);
  if (failed(convOp.inferShapes()))
    return failure();
  SmallVector<mlir::Value, 5> bnOperands{
      convOp.getResult(), param(bn + ".weight", false), param(bn + ".bias", false),
      param(bn + ".running_mean", true), param(bn + ".running_var", true)};
  SmallVector<NamedAttribute, 3> bnAttrs{b.getNamedAttr("layer", b.getStringAttr(bn))};
  bnAttrs.append(cnn::layerAttributes(b, layerSpecFor(LayerKind::BatchNorm), {}));
  auto bnOp = b.create<cnn::BatchNormOp>(op.getLoc(), TypeRange{unranked}, bnOperands, bnAttrs);
  if (failed(bnOp.inferShapes()))
    return failure();
  op.output().replaceAllUsesWith(bnOp.getResult());
  op.erase();
  return success();
}

struct MaterializeProjectionsPass : public MaterializeProjectionsBase<MaterializeProjectionsPass> {
  void runOnOperation() override {
    SmallVector<cnn::ProjectOp, 4> projects;
    getOperation().walk([&](cnn::ProjectOp op) { projects.push_back(op); });
    for (cnn::ProjectOp op : projects)
      if (!op.output().getType().isa<RankedTensorType>() || failed(materialize(op)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createMaterializeProjectionsPass() {
  return std::make_unique<MaterializeProjectionsPass>();
}

} // namespace cnnc
