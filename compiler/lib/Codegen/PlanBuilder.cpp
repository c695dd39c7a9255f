//===- PlanBuilder.cpp - From a cnn func to a model plan ------------------===//
//
// A straight walk over the func body: block arguments become input tensors,
// cnn.param ops become parameters (with PyTorch's default initialization
// chosen by the layer that reads them, LayerSpec's tensors), every layer op
// becomes a plan op with its attributes copied by name into the plan's
// fields of the same name (CNNC_OP_ATTRIBUTES), whatever its kind. Then formSteps() fuses and
// formTrainingSteps() adds the training step.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/PlanBuilder.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "cnnc/DSL/Limits.h"

#include "llvm/ADT/DenseMap.h"

#include <map>

namespace cnnc {
namespace {

using namespace cnnc::plan;

class Builder {
public:
  Builder(mlir::FuncOp func, const PlanOptions &options) : func(func), options(options) {}

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
    if (mlir::failed(checkDerivedSizes()))
      return mlir::failure();
    if (options.concatsInPlace)
      plan::placeConcatsInPlace(result);
    return std::move(result);
  }

private:
  mlir::FuncOp func;
  PlanOptions options;
  ModelPlan result;
  std::map<std::string, mlir::Location> layerLocations;

  /// Derived buffers (packed and transposed weights) are padded beyond their
  /// parameter, which shape inference bounded: they must fit Halide's 32-bit
  /// indexing too (kMaxSize values), or code generation fails unlocated.
  mlir::LogicalResult checkDerivedSizes() {
    for (const Derived &d : result.derived) {
      int64_t values = 1;
      bool overflow = false;
      std::string dims;
      for (int64_t n : d.dims) {
        overflow |= __builtin_mul_overflow(values, n, &values);
        dims += (dims.empty() ? "" : "x") + std::to_string(n);
      }
      if (!overflow && values <= kMaxSize)
        continue;
      std::string layer = d.name.substr(0, d.name.rfind('.'));
      auto at = layerLocations.find(layer);
      mlir::Location loc = at != layerLocations.end() ? at->second : func.getLoc();
      return mlir::emitError(loc)
             << "`" << layer << "`: the buffer `" << d.name << "` its generated code needs ("
             << dims << ", innermost first: channels padded to whole vectors) holds more than "
             << kMaxSize << " values (generated code indexes with 32-bit integers)";
    }
    return mlir::success();
  }
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

  // Attribute values into plan fields; the verifiers checked their types.
  static void read(mlir::Attribute a, int64_t &out) { out = a.cast<mlir::IntegerAttr>().getInt(); }
  static void read(mlir::Attribute a, double &out) {
    out = a.cast<mlir::FloatAttr>().getValueAsDouble();
  }
  static void read(mlir::Attribute a, bool &out) { out = a.cast<mlir::BoolAttr>().getValue(); }
  static void read(mlir::Attribute a, std::string &out) {
    out = a.cast<mlir::StringAttr>().getValue().str();
  }
  static void read(mlir::Attribute a, PadMode &out) {
    out = padModeNamed(a.cast<mlir::StringAttr>().getValue()).value_or(PadMode::Zeros);
  }
  template <size_t N> static void read(mlir::Attribute a, std::array<int64_t, N> &out) {
    // `pad` is "same" until shape inference: such an op is refused below, by
    // its unranked result.
    auto ints = cnn::getInts(a.dyn_cast<mlir::ArrayAttr>());
    for (size_t i = 0; i < N && i < ints.size(); ++i)
      out[i] = ints[i];
  }
  static void read(mlir::Attribute a, Range &out) {
    auto values = a.cast<mlir::ArrayAttr>();
    for (size_t i = 0; i < out.size() && i < values.size(); ++i)
      out[i] = values[i].cast<mlir::FloatAttr>().getValueAsDouble();
  }
  static void read(mlir::Attribute a, Table &out) {
    for (mlir::Attribute row : a.cast<mlir::ArrayAttr>()) {
      auto channels = cnn::getInts(row.cast<mlir::ArrayAttr>());
      out.emplace_back(channels.begin(), channels.end());
    }
  }

  /// Every plan attribute from the op attribute of the same name, where the
  /// op has one (the others keep their defaults).
  static void copyAttributes(mlir::Operation *operation, Op &op) {
#define CNNC_COPY_ATTRIBUTE(Type, name, init, doc)                                                 \
  if (mlir::Attribute a = operation->getAttr(#name))                                               \
    read(a, op.name);
    CNNC_OP_ATTRIBUTES(CNNC_COPY_ATTRIBUTE)
    CNNC_OP_RUNTIME_ATTRIBUTES(CNNC_COPY_ATTRIBUTE)
#undef CNNC_COPY_ATTRIBUTE
  }

  /// The layer's tensors (its cnn.param operands, in the order of its
  /// spec's tensors) into the op's tensor fields, with their init rules;
  /// fan_in is the weight's size per output (PyTorch's for conv and
  /// linear), and the bias uses its weight's.
  void copyTensors(mlir::Operation *operation, const LayerSpec &spec, Op &op) {
    size_t t = 0;
    int64_t fanIn = 1;
    for (mlir::Value v : operation->getOperands()) {
      if (!cnn::isParam(v) || t >= spec.tensors.size())
        continue;
      const TensorSpec &tensor = spec.tensors[t++];
      int id = params.lookup(v);
      if (tensor.init == InitKind::Weight) {
        const std::vector<int64_t> &shape = result.params[id].shape;
        fanIn = 1;
        for (size_t d = 1; d < shape.size(); ++d)
          fanIn *= shape[d];
      }
      result.params[id].init = tensor.init;
      if (tensor.init == InitKind::Constant)
        if (auto value = operation->getAttrOfType<mlir::FloatAttr>(tensor.valueFrom))
          result.params[id].initValue = value.getValueAsDouble();
      result.params[id].fanIn =
          tensor.init == InitKind::Weight || tensor.init == InitKind::Bias ? fanIn : 1;
      if (int *field = tensorField(op, tensor.suffix))
        *field = id;
    }
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
    layerLocations.emplace(op.layer, operation->getLoc());
    for (mlir::Value v : operation->getOperands())
      if (!cnn::isParam(v))
        op.inputs.push_back(tensorOf(v));
    std::optional<LayerKind> kind = cnn::layerKindOf(operation);
    if (!kind || *kind == LayerKind::Input || *kind == LayerKind::Project)
      return operation->emitError("code generation does not handle '")
             << operation->getName() << "' (is the shape pipeline run?)";
    op.kind = *kind;
    copyAttributes(operation, op);
    copyTensors(operation, layerSpecFor(*kind), op);
    // A dense layer over the channels of every pixel is, to code generation,
    // a 1x1 convolution whose weight keeps nn.Linear's units x C shape (the
    // same floats as units x C x 1 x 1).
    if (op.kind == LayerKind::Dense && result.tensors[op.inputs[0]].shape.rank == 4)
      op.kind = LayerKind::Conv;
    auto out = addTensor(op.layer, operation->getResult(0), operation->getLoc());
    if (mlir::failed(out))
      return mlir::failure();
    op.output = *out;
    result.ops.push_back(std::move(op));
    return mlir::success();
  }
};

} // namespace

mlir::FailureOr<plan::ModelPlan> buildPlan(mlir::FuncOp func, const PlanOptions &options) {
  return Builder(func, options).run();
}

} // namespace cnnc
