//===- PlanBuilder.cpp - From a cnn func to a model plan ------------------===//
//
// A straight walk over the func body: block arguments become input tensors,
// cnn.param ops become parameters (with PyTorch's default initialization
// chosen by the layer that reads them), every layer op becomes a plan op with
// its attributes copied into plain fields. Then formSteps() fuses and
// formTrainingSteps() adds the training step.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/PlanBuilder.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

namespace cnnc {
namespace {

using namespace cnnc::plan;

class Builder {
public:
  explicit Builder(mlir::FuncOp func) : func(func) {}

  mlir::FailureOr<ModelPlan> run() {
    result.name = func.getName().str();
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      mlir::Value arg = func.getArgument(i);
      std::string name = "input" + std::to_string(i);
      if (auto attr = func.getArgAttrOfType<mlir::StringAttr>(i, "cnn.name"))
        name = attr.getValue().str();
      auto t = addTensor(name, arg, func.getLoc());
      if (mlir::failed(t))
        return mlir::failure();
      result.inputs.push_back({name, *t});
      addImplicitAugment(arg, name, *t);
    }
    for (mlir::Operation &op : func.getBody().front())
      if (mlir::failed(visit(&op)))
        return mlir::failure();
    plan::formSteps(result);
    plan::formTrainingSteps(result);
    return std::move(result);
  }

private:
  mlir::FuncOp func;
  ModelPlan result;
  llvm::DenseMap<mlir::Value, int> tensors;
  llvm::DenseMap<mlir::Value, int> params;

  mlir::FailureOr<Shape> shapeOf(mlir::Value v, mlir::Location loc) {
    auto type = v.getType().dyn_cast<mlir::RankedTensorType>();
    Shape s;
    if (type && type.getRank() == 2 && !type.isDynamicDim(1)) {
      s.rank = 2;
      s.c = type.getDimSize(1);
      return s;
    }
    if (type && type.getRank() == 4 && !type.isDynamicDim(1) && !type.isDynamicDim(2) &&
        !type.isDynamicDim(3)) {
      s.c = type.getDimSize(1);
      s.h = type.getDimSize(2);
      s.w = type.getDimSize(3);
      return s;
    }
    mlir::emitError(loc) << "code generation needs a shape-inferred N x C (x H x W) tensor, got "
                         << v.getType();
    return mlir::failure();
  }

  mlir::FailureOr<int> addTensor(const std::string &name, mlir::Value v, mlir::Location loc) {
    auto shape = shapeOf(v, loc);
    if (mlir::failed(shape))
      return mlir::failure();
    result.tensors.push_back({name, *shape});
    int id = static_cast<int>(result.tensors.size()) - 1;
    tensors[v] = id;
    return id;
  }

  int tensorOf(mlir::Value v) { return tensors.lookup(v); }

  /// An image input that no `augment` reads gets an identity one (alias at
  /// inference), so that every model's training step can augment its
  /// inputs when the runtime is asked to; layers then read its output.
  void addImplicitAugment(mlir::Value arg, const std::string &name, int tensor) {
    const Shape &shape = result.tensors[tensor].shape;
    if (shape.rank != 4 || shape.h * shape.w < 2)
      return;
    for (mlir::Operation *user : arg.getUsers())
      if (llvm::isa<cnn::AugmentOp>(user))
        return;
    Op op;
    op.kind = LayerKind::Augment;
    op.layer = name + ".augment";
    op.inputs = {tensor};
    result.tensors.push_back({name + ".augmented", shape});
    op.output = static_cast<int>(result.tensors.size()) - 1;
    tensors[arg] = op.output;
    result.ops.push_back(op);
  }

  /// Records the init rule of the param behind operand `v` of a layer.
  int paramOf(mlir::Value v, InitKind init, int64_t fanIn) {
    int id = params.lookup(v);
    result.params[id].init = init;
    result.params[id].fanIn = fanIn;
    return id;
  }

  static void copyWindow(Op &op, mlir::ArrayAttr kernel, mlir::ArrayAttr stride,
                         mlir::ArrayAttr padding, mlir::ArrayAttr dilation) {
    auto k = cnn::getInts(kernel), s = cnn::getInts(stride);
    auto p = cnn::getInts(padding), d = cnn::getInts(dilation);
    for (int i = 0; i < 2; ++i) {
      op.kernel[i] = k[i];
      op.stride[i] = s[i];
      if (d.size() == 2)
        op.dilation[i] = d[i];
    }
    for (int i = 0; i < 4 && p.size() == 4; ++i)
      op.pad[i] = p[i];
  }

  mlir::LogicalResult visit(mlir::Operation *operation) {
    if (auto p = llvm::dyn_cast<cnn::ParamOp>(operation)) {
      Param param;
      param.name = p.name().str();
      auto type = p.getType().cast<mlir::RankedTensorType>();
      param.shape.assign(type.getShape().begin(), type.getShape().end());
      param.buffer = p.buffer();
      param.frozen = p.frozen();
      result.params.push_back(param);
      params[p.getResult()] = static_cast<int>(result.params.size()) - 1;
      return mlir::success();
    }
    if (auto ret = llvm::dyn_cast<cnn::ReturnOp>(operation)) {
      for (unsigned i = 0; i < ret.outputs().size(); ++i) {
        mlir::Value v = ret.outputs()[i];
        auto shape = shapeOf(v, ret.getLoc());
        if (mlir::failed(shape))
          return mlir::failure();
        std::string name = ret.names()[i].cast<mlir::StringAttr>().getValue().str();
        result.outputs.push_back({name, tensorOf(v), *shape});
      }
      return mlir::success();
    }
    if (operation->getNumResults() != 1)
      return operation->emitError("code generation does not handle this op");

    Op op;
    op.layer = cnn::layerName(operation).str();
    for (mlir::Value v : operation->getOperands())
      if (!cnn::isParam(v))
        op.inputs.push_back(tensorOf(v));
    mlir::LogicalResult kind =
        llvm::TypeSwitch<mlir::Operation *, mlir::LogicalResult>(operation)
            .Case([&](cnn::Conv2DOp c) {
              op.kind = LayerKind::Conv;
              copyWindow(op, c.kernel(), c.stride(), c.padding(), c.dilation());
              op.groups = c.groups();
              // The verifier accepted only known modes.
              op.padMode = padModeNamed(c.pad_mode()).value_or(PadMode::Zeros);
              if (auto table = c.table())
                for (mlir::Attribute row : *table) {
                  auto channels = cnn::getInts(row.cast<mlir::ArrayAttr>());
                  op.table.emplace_back(channels.begin(), channels.end());
                }
              auto wType = c.weight().getType().cast<mlir::RankedTensorType>();
              int64_t fanIn = wType.getDimSize(1) * wType.getDimSize(2) * wType.getDimSize(3);
              op.weight = paramOf(c.weight(), InitKind::Weight, fanIn);
              if (c.bias())
                op.bias = paramOf(c.bias(), InitKind::Bias, fanIn);
              return mlir::success();
            })
            .Case([&](cnn::DenseOp d) {
              op.kind = LayerKind::Dense;
              int64_t fanIn = d.weight().getType().cast<mlir::RankedTensorType>().getDimSize(1);
              op.weight = paramOf(d.weight(), InitKind::Weight, fanIn);
              if (d.bias())
                op.bias = paramOf(d.bias(), InitKind::Bias, fanIn);
              return mlir::success();
            })
            .Case([&](cnn::MaxPool2DOp p) {
              op.kind = LayerKind::MaxPool;
              copyWindow(op, p.kernel(), p.stride(), p.padding(), p.dilation());
              op.ceilMode = p.ceil_mode();
              return mlir::success();
            })
            .Case([&](cnn::AvgPool2DOp p) {
              op.kind = LayerKind::AvgPool;
              copyWindow(op, p.kernel(), p.stride(), p.padding(), nullptr);
              op.ceilMode = p.ceil_mode();
              op.countIncludePad = p.count_include_pad();
              return mlir::success();
            })
            .Case([&](cnn::L2Pool2DOp p) {
              op.kind = LayerKind::L2Pool;
              copyWindow(op, p.kernel(), p.stride(), nullptr, nullptr);
              op.ceilMode = p.ceil_mode();
              return mlir::success();
            })
            .Case([&](cnn::GlobalAvgPool2DOp) {
              op.kind = LayerKind::GlobalAvgPool;
              return mlir::success();
            })
            .Case([&](cnn::BatchNormOp b) {
              op.kind = LayerKind::BatchNorm;
              op.epsilon = b.epsilon().convertToDouble();
              op.momentum = b.momentum().convertToDouble();
              op.weight = paramOf(b.weight(), InitKind::Ones, 1);
              op.bias = paramOf(b.bias(), InitKind::Zeros, 1);
              op.mean = paramOf(b.running_mean(), InitKind::Zeros, 1);
              op.var = paramOf(b.running_var(), InitKind::Ones, 1);
              return mlir::success();
            })
            .Case([&](cnn::LRNOp l) {
              op.kind = LayerKind::LRN;
              op.size = l.size();
              op.alpha = l.alpha().convertToDouble();
              op.beta = l.beta().convertToDouble();
              op.k = l.k().convertToDouble();
              return mlir::success();
            })
            .Case([&](cnn::FlattenOp) {
              op.kind = LayerKind::Flatten;
              return mlir::success();
            })
            .Case([&](cnn::SoftmaxOp) {
              op.kind = LayerKind::Softmax;
              return mlir::success();
            })
            .Case([&](cnn::ReLUOp) {
              op.kind = LayerKind::ReLU;
              return mlir::success();
            })
            .Case([&](cnn::SigmoidOp) {
              op.kind = LayerKind::Sigmoid;
              return mlir::success();
            })
            .Case([&](cnn::TanhOp) {
              op.kind = LayerKind::Tanh;
              return mlir::success();
            })
            .Case([&](cnn::LeakyReLUOp l) {
              op.kind = LayerKind::LeakyReLU;
              op.slope = l.slope().convertToDouble();
              return mlir::success();
            })
            .Case([&](cnn::ConcatOp) {
              op.kind = LayerKind::Concat;
              return mlir::success();
            })
            .Case([&](cnn::AddOp) {
              op.kind = LayerKind::Add;
              return mlir::success();
            })
            .Case([&](cnn::AugmentOp a) {
              op.kind = LayerKind::Augment;
              op.translate[0] = a.translate_x().convertToDouble();
              op.translate[1] = a.translate_y().convertToDouble();
              op.rotate = a.rotate().convertToDouble();
              op.shear = a.shear().convertToDouble();
              op.scale[0] = a.scale_min().convertToDouble();
              op.scale[1] = a.scale_max().convertToDouble();
              op.flip = a.flip();
              return mlir::success();
            })
            .Case([&](cnn::DropoutOp d) {
              op.kind = LayerKind::Dropout;
              op.p = d.p().convertToDouble();
              return mlir::success();
            })
            .Default([](mlir::Operation *o) {
              return o->emitError("code generation does not handle '")
                     << o->getName() << "' (is the shape pipeline run?)";
            });
    if (mlir::failed(kind))
      return mlir::failure();
    auto out = addTensor(op.layer, operation->getResult(0), operation->getLoc());
    if (mlir::failed(out))
      return mlir::failure();
    op.output = *out;
    result.ops.push_back(std::move(op));
    return mlir::success();
  }
};

} // namespace

mlir::FailureOr<plan::ModelPlan> buildPlan(mlir::FuncOp func) { return Builder(func).run(); }

} // namespace cnnc
