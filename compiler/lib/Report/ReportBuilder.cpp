//===- ReportBuilder.cpp - Report from a cnn function ---------------------===//
//
// Walks a shape-inferred network in order and fills a NetworkReport. Counts
// and receptive fields come from LayerArithmetic; this file only decides
// which formula applies to which op and follows the graph.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Report/ReportBuilder.h"

#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <sstream>

using namespace mlir;

namespace cnnc {

namespace {

std::vector<int64_t> dimsOf(Value v) {
  auto shape = v.getType().cast<RankedTensorType>().getShape();
  return std::vector<int64_t>(shape.begin() + 1, shape.end());
}

int64_t elements(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string fmtStart(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

/// Parameters, buffers and MACs of one layer.
void countLayer(Operation *op, LayerReport &row) {
  auto frozen = [](Value p) {
    auto param = p.getDefiningOp<cnn::ParamOp>();
    return param && param.frozen();
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](cnn::Conv2DOp c) {
        auto in = dimsOf(c.input()), out = dimsOf(c.output());
        auto k = cnn::getInts(c.kernel());
        bool bias = static_cast<bool>(c.bias());
        if (auto table = c.table()) {
          int64_t connections = 0;
          for (Attribute rowAttr : *table)
            connections += rowAttr.cast<ArrayAttr>().size();
          row.params = tableConvParams(connections, out[0], k[0], k[1], bias);
          row.macs = tableConvMacs(connections, out[1], out[2], k[0], k[1]);
        } else {
          row.params = convParams(out[0], in[0], c.groups(), k[0], k[1], bias);
          row.macs = convMacs(out[0], out[1], out[2], in[0], c.groups(), k[0], k[1]);
        }
        row.trainableParams = frozen(c.weight()) ? 0 : row.params;
      })
      .Case([&](cnn::DenseOp d) {
        auto in = dimsOf(d.input()), out = dimsOf(d.output());
        int64_t units = d.units();
        row.params = denseParams(in[0], units, static_cast<bool>(d.bias()));
        // Over the channels of every pixel: a 1x1 convolution's count.
        row.macs = in.size() == 3 ? convMacs(units, out[1], out[2], in[0], 1, 1, 1)
                                  : denseMacs(in[0], units);
        row.trainableParams = frozen(d.weight()) ? 0 : row.params;
      })
      .Case([&](cnn::BatchNormOp b) {
        int64_t channels = dimsOf(b.input())[0];
        row.params = batchNormParams(channels);
        row.buffers = batchNormBuffers(channels);
        row.trainableParams = frozen(b.weight()) ? 0 : row.params;
      })
      .Default([&](Operation *o) {
        // Any other layer's tensors, element by element (layernorm's weight
        // and bias, a layer scale, prelu's slopes).
        for (Value v : o->getOperands())
          if (auto param = v.getDefiningOp<cnn::ParamOp>()) {
            int64_t n = 1;
            for (int64_t d : v.getType().cast<RankedTensorType>().getShape())
              n *= d;
            (param.buffer() ? row.buffers : row.params) += n;
            if (!param.buffer() && !param.frozen())
              row.trainableParams += n;
          }
      });
}

struct Field {
  FieldReport f;
  bool global = false;
};

std::string describe(const FieldReport &f, int axis) {
  return "j=" + std::to_string(f.jump[axis]) + ", start=" + fmtStart(f.start[axis]);
}

/// The field of a merge: the largest over its inputs, with a note when the
/// inputs' units are spaced (jump) or centred (start) differently.
Field mergeFields(llvm::ArrayRef<Field> ins, LayerReport &row) {
  Field out = ins[0];
  for (const Field &f : ins)
    if (f.global)
      return Field{{}, true};
  for (size_t b = 1; b < ins.size(); ++b) {
    const FieldReport &x = ins[b].f;
    for (int axis = 0; axis < 2; ++axis) {
      if (x.jump[axis] != ins[0].f.jump[axis] || x.start[axis] != ins[0].f.start[axis]) {
        const char *what = x.jump[axis] != ins[0].f.jump[axis] ? "jump" : "alignment";
        row.notes.push_back(std::string("branches disagree in ") + what + " along " +
                            (axis == 0 ? "H" : "W") + ": branch 1 has " + describe(ins[0].f, axis) +
                            ", branch " + std::to_string(b + 1) + " has " + describe(x, axis) +
                            "; the field shown is the largest over the branches");
        break;
      }
    }
    for (int axis = 0; axis < 2; ++axis)
      if (x.size[axis] > out.f.size[axis]) {
        out.f.size[axis] = x.size[axis];
        out.f.jump[axis] = x.jump[axis];
        out.f.start[axis] = x.start[axis];
      }
  }
  return out;
}

/// The field of an adaptive pool. Where its windows have one size and one
/// step it is that window pooling (kernel = stride = n / m where m divides
/// n); otherwise the field shown takes the largest window and step (the
/// start is the first window's), with a note saying so.
std::optional<Field> adaptivePoolField(Operation *op, Field in, LayerReport &row) {
  auto inDims = dimsOf(op->getOperand(0)), outDims = dimsOf(op->getResult(0));
  for (int axis = 0; axis < 2; ++axis) {
    int64_t n = inDims[1 + axis], m = outDims[1 + axis];
    ReceptiveField rf{in.f.jump[axis], in.f.size[axis], in.f.start[axis]};
    std::optional<ReceptiveField> out;
    if (std::optional<Window> w = adaptiveRegularWindow(n, m)) {
      out = receptiveFieldThrough(rf, *w);
    } else {
      Window largest, first;
      largest.kernel = adaptiveLargestWindow(n, m);
      first.kernel = adaptiveEnd<int64_t>(0, n, m);
      largest.stride = first.stride = adaptiveLargestStep(n, m);
      out = receptiveFieldThrough(rf, largest);
      std::optional<ReceptiveField> firstField = receptiveFieldThrough(rf, first);
      if (!out || !firstField)
        return std::nullopt;
      out->start = firstField->start;
      row.notes.push_back(std::string("adaptive windows along ") + (axis == 0 ? "H" : "W") + " (" +
                          std::to_string(n) + " pixels to " + std::to_string(m) +
                          ") differ in size or step: the field shown is the largest window's (" +
                          std::to_string(largest.kernel) + " pixels) at the largest step (" +
                          std::to_string(largest.stride) + "), the start the first window's");
    }
    if (!out)
      return std::nullopt;
    in.f.jump[axis] = out->jump;
    in.f.size[axis] = out->size;
    in.f.start[axis] = out->start;
  }
  return in;
}

/// The receptive field passes 64 bits at `op` (strides multiply).
LogicalResult fieldOverflow(Operation *op) {
  return op->emitError("`") << cnn::layerName(op)
                            << "`: its receptive field's jump or size passes 2^63 pixels "
                               "(the strides before it multiply past 64 bits)";
}

} // namespace

FailureOr<NetworkReport> buildReport(FuncOp func) {
  NetworkReport report;
  report.network = func.getName().str();
  llvm::DenseMap<Value, Field> fields;
  llvm::DenseMap<Value, std::string> names;
  Block &entry = func.getBody().front();
  for (BlockArgument arg : entry.getArguments()) {
    if (!arg.getType().isa<RankedTensorType>())
      return (func.emitError("report: the input shapes are not known"), failure());
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "cnn.name");
    std::string n = name ? name.getValue().str() : "arg" + std::to_string(arg.getArgNumber());
    report.inputs.push_back({n, dimsOf(arg)});
    report.activationBytes += 4 * elements(dimsOf(arg));
    fields[arg] = Field{};
    names[arg] = n;
  }
  for (Operation &operation : entry) {
    Operation *op = &operation;
    if (isa<cnn::ParamOp>(op))
      continue;
    if (auto ret = dyn_cast<cnn::ReturnOp>(op)) {
      for (auto [v, n] : llvm::zip(ret.outputs(), ret.names()))
        report.outputs.push_back({n.cast<StringAttr>().getValue().str(), dimsOf(v)});
      continue;
    }
    if (isa<cnn::ProjectOp>(op))
      return (op->emitError("report: run cnn-materialize-projections first"), failure());
    Value result = op->getResult(0);
    if (!result.getType().isa<RankedTensorType>())
      return (op->emitError("report: shapes are not inferred"), failure());
    LayerReport row;
    row.name = cnn::layerName(op).str();
    row.op = op->getName().stripDialect().str();
    row.shape = dimsOf(result);
    SmallVector<Field, 4> ins;
    for (Value v : op->getOperands())
      if (!cnn::isParam(v)) {
        row.inputs.push_back(names.lookup(v));
        ins.push_back(fields.lookup(v));
      }
    countLayer(op, row);

    Field field = ins.empty() ? Field{} : ins[0];
    std::optional<LayerKind> kind = cnn::layerKindOf(op);
    if (kind && layerFamily(*kind) == LayerFamily::Merge) {
      field = mergeFields(ins, row);
    } else if (kind && layerFamily(*kind) == LayerFamily::AdaptivePool) {
      if (!field.global) {
        std::optional<Field> pooled = adaptivePoolField(op, field, row);
        if (!pooled)
          return fieldOverflow(op);
        field = *pooled;
      }
    } else if (isa<cnn::GlobalAvgPool2DOp>(op) ||
               (isa<cnn::DenseOp>(op) && dimsOf(op->getOperand(0)).size() == 1)) {
      field.global = true;
    } else if (!field.global) {
      llvm::Optional<Window> wh = cnn::getWindow(op, 0), ww = cnn::getWindow(op, 1);
      if (wh && ww) {
        for (int axis = 0; axis < 2; ++axis) {
          ReceptiveField rf{field.f.jump[axis], field.f.size[axis], field.f.start[axis]};
          std::optional<ReceptiveField> out = receptiveFieldThrough(rf, axis == 0 ? *wh : *ww);
          if (!out)
            return fieldOverflow(op);
          field.f.jump[axis] = out->jump;
          field.f.size[axis] = out->size;
          field.f.start[axis] = out->start;
        }
      }
    }
    if (!field.global)
      row.field = field.f;
    fields[result] = field;
    names[result] = row.name;

    // Each row is within 64 bits (Limits.h); the sums are checked.
    if (__builtin_add_overflow(report.totalParams, row.params, &report.totalParams) ||
        __builtin_add_overflow(report.trainableParams, row.trainableParams,
                               &report.trainableParams) ||
        __builtin_add_overflow(report.buffers, row.buffers, &report.buffers) ||
        __builtin_add_overflow(report.macs, row.macs, &report.macs) ||
        __builtin_add_overflow(report.activationBytes, 4 * elements(row.shape),
                               &report.activationBytes))
      return (op->emitError("`") << row.name << "`: the network's totals pass 2^63", failure());
    report.layers.push_back(std::move(row));
  }
  return report;
}

} // namespace cnnc
