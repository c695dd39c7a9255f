//===- MLIRGen.cpp - Layer graph to the cnn dialect -----------------------===//
#include "cnnc/MLIRGen/MLIRGen.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace cnnc {

namespace {

using mlir::Value;

class Generator {
public:
  Generator(MLIRContext &ctx, const Graph &graph, StringRef file)
      : builder(&ctx), graph(graph), file(file) {}

  OwningOpRef<ModuleOp> run();

private:
  Location loc(const Layer &l) {
    return FileLineColLoc::get(builder.getStringAttr(file), l.range.begin.line, l.range.begin.col);
  }
  Type unranked() { return UnrankedTensorType::get(builder.getF32Type()); }
  Value param(const Layer &l, StringRef suffix, bool buffer = false);
  NamedAttribute attr(StringRef name, Attribute value) { return builder.getNamedAttr(name, value); }
  Attribute ints(const Layer &l, const std::string &key) {
    return builder.getI64ArrayAttr(l.getInts(key));
  }
  /// `padding` (explicit, or zeros plus `same_padding`).
  void addPadding(const Layer &l, SmallVectorImpl<NamedAttribute> &attrs);
  Operation *build(const Layer &l, ArrayRef<Value> inputs);

  OpBuilder builder;
  const Graph &graph;
  StringRef file;
};

Value Generator::param(const Layer &l, StringRef suffix, bool buffer) {
  SmallVector<NamedAttribute, 3> attrs{
      attr("name", builder.getStringAttr(l.name + "." + suffix.str()))};
  if (buffer)
    attrs.push_back(attr("buffer", builder.getUnitAttr()));
  if (const cnnc::Value *frozen = l.attr("frozen"); frozen && frozen->b && !buffer)
    attrs.push_back(attr("frozen", builder.getUnitAttr()));
  return builder.create<cnn::ParamOp>(loc(l), TypeRange{unranked()}, ValueRange{}, attrs)
      .getResult();
}

void Generator::addPadding(const Layer &l, SmallVectorImpl<NamedAttribute> &attrs) {
  const cnnc::Value &pad = l.attrs.at("pad");
  if (pad.kind == cnnc::Value::Kind::Symbol) { // same
    attrs.push_back(attr("padding", builder.getI64ArrayAttr({0, 0, 0, 0})));
    attrs.push_back(attr("same_padding", builder.getUnitAttr()));
  } else {
    attrs.push_back(attr("padding", ints(l, "pad")));
  }
}

Operation *Generator::build(const Layer &l, ArrayRef<Value> inputs) {
  SmallVector<Value, 6> operands(inputs.begin(), inputs.end());
  SmallVector<NamedAttribute, 12> attrs{attr("layer", builder.getStringAttr(l.name))};
  auto f64 = [&](StringRef name, const std::string &key) {
    attrs.push_back(attr(name, builder.getF64FloatAttr(l.getFloat(key))));
  };
  auto i64 = [&](StringRef name, const std::string &key) {
    attrs.push_back(attr(name, builder.getI64IntegerAttr(l.getInt(key))));
  };
  auto create = [&](auto tag) -> Operation * {
    using OpTy = decltype(tag);
    return builder.create<OpTy>(loc(l), TypeRange{unranked()}, operands, attrs);
  };
  switch (l.kind) {
  case LayerKind::Conv: {
    operands.push_back(param(l, "weight"));
    if (l.getBool("bias"))
      operands.push_back(param(l, "bias"));
    i64("filters", "filters");
    attrs.push_back(attr("kernel", ints(l, "kernel")));
    attrs.push_back(attr("stride", ints(l, "stride")));
    addPadding(l, attrs);
    attrs.push_back(attr("dilation", ints(l, "dilation")));
    i64("groups", "groups");
    attrs.push_back(attr("pad_mode", builder.getStringAttr(l.attrs.at("mode").s)));
    if (const cnnc::Value *table = l.attr("table")) {
      SmallVector<Attribute, 16> rows;
      for (const cnnc::Value &row : table->list)
        rows.push_back(builder.getI64ArrayAttr(row.asInts()));
      attrs.push_back(attr("table", builder.getArrayAttr(rows)));
    }
    return create(cnn::Conv2DOp());
  }
  case LayerKind::MaxPool:
    attrs.push_back(attr("kernel", ints(l, "kernel")));
    attrs.push_back(attr("stride", ints(l, "stride")));
    addPadding(l, attrs);
    attrs.push_back(attr("dilation", ints(l, "dilation")));
    attrs.push_back(attr("ceil_mode", builder.getBoolAttr(l.getBool("ceil"))));
    return create(cnn::MaxPool2DOp());
  case LayerKind::AvgPool:
    attrs.push_back(attr("kernel", ints(l, "kernel")));
    attrs.push_back(attr("stride", ints(l, "stride")));
    addPadding(l, attrs);
    attrs.push_back(attr("ceil_mode", builder.getBoolAttr(l.getBool("ceil"))));
    attrs.push_back(attr("count_include_pad", builder.getBoolAttr(l.getBool("count_include_pad"))));
    return create(cnn::AvgPool2DOp());
  case LayerKind::L2Pool:
    attrs.push_back(attr("kernel", ints(l, "kernel")));
    attrs.push_back(attr("stride", ints(l, "stride")));
    attrs.push_back(attr("ceil_mode", builder.getBoolAttr(l.getBool("ceil"))));
    return create(cnn::L2Pool2DOp());
  case LayerKind::GlobalAvgPool:
    return create(cnn::GlobalAvgPool2DOp());
  case LayerKind::Dense:
    operands.push_back(param(l, "weight"));
    if (l.getBool("bias"))
      operands.push_back(param(l, "bias"));
    i64("units", "units");
    if (l.attr("in"))
      i64("in_features", "in");
    return create(cnn::DenseOp());
  case LayerKind::Flatten:
    return create(cnn::FlattenOp());
  case LayerKind::Dropout:
    f64("p", "p");
    return create(cnn::DropoutOp());
  case LayerKind::Augment: {
    auto pair = [&](const std::string &key, int i) { return l.attrs.at(key).list[i].asDouble(); };
    attrs.push_back(attr("translate_x", builder.getF64FloatAttr(pair("translate", 0))));
    attrs.push_back(attr("translate_y", builder.getF64FloatAttr(pair("translate", 1))));
    f64("rotate", "rotate");
    f64("shear", "shear");
    attrs.push_back(attr("scale_min", builder.getF64FloatAttr(pair("scale", 0))));
    attrs.push_back(attr("scale_max", builder.getF64FloatAttr(pair("scale", 1))));
    attrs.push_back(attr("flip", builder.getBoolAttr(l.getBool("flip"))));
    return create(cnn::AugmentOp());
  }
  case LayerKind::BatchNorm:
    operands.push_back(param(l, "weight"));
    operands.push_back(param(l, "bias"));
    operands.push_back(param(l, "running_mean", /*buffer=*/true));
    operands.push_back(param(l, "running_var", /*buffer=*/true));
    f64("epsilon", "eps");
    f64("momentum", "momentum");
    return create(cnn::BatchNormOp());
  case LayerKind::LRN:
    i64("size", "size");
    f64("alpha", "alpha");
    f64("beta", "beta");
    f64("k", "k");
    return create(cnn::LRNOp());
  case LayerKind::Softmax:
    return create(cnn::SoftmaxOp());
  case LayerKind::ReLU:
    return create(cnn::ReLUOp());
  case LayerKind::LeakyReLU:
    f64("slope", "slope");
    return create(cnn::LeakyReLUOp());
  case LayerKind::Sigmoid:
    return create(cnn::SigmoidOp());
  case LayerKind::Tanh:
    return create(cnn::TanhOp());
  case LayerKind::Concat:
    return create(cnn::ConcatOp());
  case LayerKind::Add:
    return create(cnn::AddOp());
  case LayerKind::Project:
    if (l.getBool("frozen"))
      attrs.push_back(attr("frozen", builder.getUnitAttr()));
    return create(cnn::ProjectOp());
  case LayerKind::Input:
    break;
  }
  return nullptr;
}

OwningOpRef<ModuleOp> Generator::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  SmallVector<Type, 2> argTypes;
  for (const Layer &l : graph.layers)
    if (l.kind == LayerKind::Input) {
      auto s = l.getInts("shape");
      argTypes.push_back(RankedTensorType::get({ShapedType::kDynamicSize, s[0], s[1], s[2]},
                                               builder.getF32Type()));
    }
  SmallVector<Type, 2> resultTypes(graph.outputs.size(), unranked());
  Location funcLoc = graph.layers.empty() ? builder.getUnknownLoc() : loc(graph.layers[0]);
  auto func = FuncOp::create(funcLoc, graph.name, builder.getFunctionType(argTypes, resultTypes));
  module->push_back(func);
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  std::vector<Value> values(graph.layers.size());
  unsigned arg = 0;
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer &l = graph.layers[i];
    if (l.kind == LayerKind::Input) {
      func.setArgAttr(arg, "cnn.name", builder.getStringAttr(l.name));
      values[i] = entry->getArgument(arg++);
      continue;
    }
    SmallVector<Value, 4> inputs;
    for (int in : l.inputs)
      inputs.push_back(values[in]);
    values[i] = build(l, inputs)->getResult(0);
  }
  SmallVector<Value, 2> outputs;
  SmallVector<StringRef, 2> names;
  for (const GraphOutput &o : graph.outputs) {
    outputs.push_back(values[o.layer]);
    names.push_back(o.name);
  }
  builder.create<cnn::ReturnOp>(funcLoc, outputs, builder.getStrArrayAttr(names));
  return module;
}

} // namespace

OwningOpRef<ModuleOp> mlirGen(MLIRContext &context, const Graph &graph, StringRef fileName) {
  return Generator(context, graph, fileName).run();
}

} // namespace cnnc
