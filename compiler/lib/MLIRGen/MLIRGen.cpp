//===- MLIRGen.cpp - Layer graph to the cnn dialect -----------------------===//
#include "cnnc/MLIRGen/MLIRGen.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Dialect/CNN/LayerAttributes.h"

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
  Value param(const Layer &l, const TensorSpec &tensor);
  Operation *build(const Layer &l, ArrayRef<Value> inputs);

  OpBuilder builder;
  const Graph &graph;
  StringRef file;
};

Value Generator::param(const Layer &l, const TensorSpec &tensor) {
  SmallVector<NamedAttribute, 3> attrs{builder.getNamedAttr(
      "name",
      builder.getStringAttr(tensor.suffix.empty() ? l.name : l.name + "." + tensor.suffix))};
  if (tensor.buffer)
    attrs.push_back(builder.getNamedAttr("buffer", builder.getUnitAttr()));
  for (const ParamSpec &p : layerSpecFor(l.kind).params)
    if (p.role == ParamRole::Freeze && l.getBool(p.name) && !tensor.buffer)
      attrs.push_back(builder.getNamedAttr("frozen", builder.getUnitAttr()));
  return builder.create<cnn::ParamOp>(loc(l), TypeRange{unranked()}, ValueRange{}, attrs)
      .getResult();
}

/// Every layer the same way, from its spec: the data inputs, then the
/// tensors it owns (those its switches keep) as cnn.param operands, and its
/// parameters as the attributes of the same name.
Operation *Generator::build(const Layer &l, ArrayRef<Value> inputs) {
  const LayerSpec &spec = layerSpecFor(l.kind);
  SmallVector<Value, 6> operands(inputs.begin(), inputs.end());
  for (const TensorSpec &t : spec.tensors)
    if (t.onlyIf.empty() || l.getBool(t.onlyIf))
      operands.push_back(param(l, t));
  SmallVector<NamedAttribute, 12> attrs{
      builder.getNamedAttr("layer", builder.getStringAttr(l.name))};
  attrs.append(cnn::layerAttributes(builder, spec, l.attrs));
  // A layer whose tensors are made later (project) carries `frozen` itself.
  if (spec.tensors.empty())
    for (const ParamSpec &p : spec.params)
      if (p.role == ParamRole::Freeze && l.getBool(p.name))
        attrs.push_back(builder.getNamedAttr(p.name, builder.getUnitAttr()));
  OperationState state(loc(l), std::string("cnn.") + layerOpName(l.kind));
  state.addOperands(operands);
  state.addTypes(unranked());
  state.addAttributes(attrs);
  return builder.createOperation(state);
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
