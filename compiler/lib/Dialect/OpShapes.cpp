//===- OpShapes.cpp - Shape rules of the cnn ops --------------------------===//
//
// Each rule reads the layer's attributes and its input shapes, calls the
// formulas of LayerArithmetic, and reports what does not fit in the user's
// terms: the layer's name, the shapes (without the batch), and where one
// layer is to blame for a mismatch, a note at that layer with the arithmetic
// and a padding or ceil-mode change that would fix it.
//
//===----------------------------------------------------------------------===//
#include "OpShapes.h"
#include "cnnc/Arithmetic/DimsString.h"
#include "cnnc/Arithmetic/LayerArithmetic.h"
#include "cnnc/DSL/PadMode.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>
#include <string>

using namespace mlir;

namespace cnnc::cnn {

namespace {

using Shape = llvm::SmallVector<int64_t, 4>;

llvm::Optional<Shape> rankedShape(Value v) {
  if (auto t = v.getType().dyn_cast<RankedTensorType>())
    return Shape(t.getShape().begin(), t.getShape().end());
  return llvm::None;
}

std::string quoted(Operation *op) { return "`" + layerName(op).str() + "`"; }

std::string hw(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

/// "2" for a square setting, "2x1" otherwise.
std::string square(int64_t h, int64_t w) { return h == w ? std::to_string(h) : hw(h, w); }

/// Reports an error at `op`, prefixed with the layer's kind and name.
InFlightDiagnostic layerError(Operation *op, const std::string &message) {
  std::string kind = op->getName().stripDialect().str();
  return op->emitError() << kind << " " << quoted(op) << ": " << message;
}

/// The data input of a single-input layer, as a rank-4 (NCHW) shape.
FailureOr<Shape> imageInput(Operation *op) {
  Shape in = *rankedShape(op->getOperand(0));
  if (in.size() != 4) {
    layerError(op, "expects a CxHxW input, but gets " + shapeString(in) +
                       " features (a flattened tensor)");
    return failure();
  }
  return in;
}

/// Walks up from `v` through layers that keep the spatial size and returns
/// the layer that set it (a conv or pooling op), or nullptr.
Operation *spatialCulprit(Value v) {
  Operation *op = v.getDefiningOp();
  while (op && !isa<ParamOp>(op) && op->getNumOperands() > 0) {
    auto in = rankedShape(op->getOperand(0));
    auto out = rankedShape(op->getResult(0));
    if (!in || !out || in->size() != 4 || out->size() != 4)
      return nullptr;
    if ((*in)[2] != (*out)[2] || (*in)[3] != (*out)[3])
      return op;
    op = op->getOperand(0).getDefiningOp();
  }
  return nullptr;
}

/// Explains why `culprit` gives its output size and what would give
/// `targetH`x`targetW` instead; attached as a note to `diag`.
void explainSpatialSize(InFlightDiagnostic &diag, Operation *culprit, const std::string &who,
                        int64_t targetH, int64_t targetW) {
  Shape in = *rankedShape(culprit->getOperand(0));
  Shape out = *rankedShape(culprit->getResult(0));
  std::string msg = who + " is " + hw(out[2], out[3]) + " because " + quoted(culprit);
  llvm::Optional<Window> wh = getWindow(culprit, 0), ww = getWindow(culprit, 1);
  if (!wh || !ww) {
    diag.attachNote(culprit->getLoc()) << msg << " makes it so";
    return;
  }
  msg += " has kernel " + square(wh->kernel, ww->kernel) + ", stride " +
         square(wh->stride, ww->stride);
  if (wh->dilation != 1 || ww->dilation != 1)
    msg += ", dilation " + square(wh->dilation, ww->dilation);
  if (wh->padBegin == 0 && wh->padEnd == 0 && ww->padBegin == 0 && ww->padEnd == 0)
    msg += " and no padding";
  else
    msg += " and padding " + std::to_string(wh->padBegin) + "," + std::to_string(ww->padBegin) +
           "," + std::to_string(wh->padEnd) + "," + std::to_string(ww->padEnd);
  msg += " on " + hw(in[2], in[3]);
  // What would fix it: a symmetric padding, or ceil mode for pooling.
  std::optional<int64_t> ph = paddingForOutputSize(in[2], *wh, targetH);
  std::optional<int64_t> pw = paddingForOutputSize(in[3], *ww, targetW);
  std::string fix;
  bool hasPadding = culprit->hasAttr("pad");
  if (!hasPadding)
    ph = pw = std::nullopt;
  if (ph && pw && *ph == *pw)
    fix = "`pad: " + std::to_string(*ph) + "`";
  else if (ph && pw)
    fix = "`pad: [" + std::to_string(*ph) + ", " + std::to_string(*pw) + "]`";
  if (!isa<Conv2DOp>(culprit) && !wh->ceilMode) {
    Window ch = *wh, cw = *ww;
    ch.ceilMode = cw.ceilMode = true;
    if (windowOutputSize(in[2], ch) == targetH && windowOutputSize(in[3], cw) == targetW)
      fix += std::string(fix.empty() ? "" : " or ") + "`ceil: true`";
  }
  if (!fix.empty())
    msg += "; " + fix + " gives " + hw(targetH, targetW);
  diag.attachNote(culprit->getLoc()) << msg;
}

/// Output H and W of a windowed op, resolving `same` padding.
LogicalResult windowOutput(Operation *op, const Shape &in, bool useSamePadding,
                           InferredShapes &shapes, int64_t &outH, int64_t &outW) {
  Window wh = *getWindow(op, 0), ww = *getWindow(op, 1);
  if (useSamePadding) {
    auto [t, b] = samePadding(in[2], wh.kernel, wh.stride, wh.dilation);
    auto [l, r] = samePadding(in[3], ww.kernel, ww.stride, ww.dilation);
    wh.padBegin = t, wh.padEnd = b, ww.padBegin = l, ww.padEnd = r;
    shapes.resolvedPadding = Shape{t, l, b, r};
  }
  std::optional<int64_t> h = windowOutputSize(in[2], wh);
  std::optional<int64_t> w = windowOutputSize(in[3], ww);
  if (!h || !w) {
    int64_t kh = effectiveKernel(wh.kernel, wh.dilation);
    int64_t kw = effectiveKernel(ww.kernel, ww.dilation);
    std::string window = hw(wh.kernel, ww.kernel);
    if (kh != wh.kernel || kw != ww.kernel)
      window += " (dilated to " + hw(kh, kw) + ")";
    layerError(op, "window " + window + " does not fit in its padded input " +
                       hw(in[2] + wh.padBegin + wh.padEnd, in[3] + ww.padBegin + ww.padEnd) +
                       " (input " + hw(in[2], in[3]) + ", padding " + std::to_string(wh.padBegin) +
                       "," + std::to_string(ww.padBegin) + "," + std::to_string(wh.padEnd) + "," +
                       std::to_string(ww.padEnd) + ")");
    return failure();
  }
  outH = *h;
  outW = *w;
  return success();
}

/// PyTorch's pooling rule: padding at most half the (effective) kernel.
LogicalResult checkPoolPadding(Operation *op) {
  for (int axis = 0; axis < 2; ++axis) {
    Window w = *getWindow(op, axis);
    int64_t half = effectiveKernel(w.kernel, w.dilation) / 2;
    if (w.padBegin > half || w.padEnd > half) {
      layerError(op, "padding " + std::to_string(std::max(w.padBegin, w.padEnd)) +
                         " is more than half the window " + std::to_string(w.kernel) +
                         "; a window would see only padding");
      return failure();
    }
  }
  return success();
}

FailureOr<InferredShapes> convShapes(Conv2DOp op) {
  FailureOr<Shape> in = imageInput(op);
  if (failed(in))
    return failure();
  int64_t channels = (*in)[1], groups = op.groups(), filters = op.filters();
  if (channels % groups != 0 || filters % groups != 0) {
    layerError(op, "groups " + std::to_string(groups) + " must divide both the " +
                       std::to_string(channels) + " input channels and the " +
                       std::to_string(filters) + " filters");
    return failure();
  }
  if (auto table = op.table()) {
    if (static_cast<int64_t>(table->size()) != filters) {
      layerError(op, "connection table has " + std::to_string(table->size()) +
                         " rows but the layer has " + std::to_string(filters) + " filters");
      return failure();
    }
    for (Attribute row : *table)
      for (int64_t c : getInts(row.cast<ArrayAttr>()))
        if (c >= channels) {
          layerError(op, "connection table reads input channel " + std::to_string(c) +
                             " but the input has " + std::to_string(channels) + " channels (0 to " +
                             std::to_string(channels - 1) + ")");
          return failure();
        }
  }
  InferredShapes shapes;
  int64_t h, w;
  if (failed(windowOutput(op, *in, isSamePadding(op.pad()), shapes, h, w)))
    return failure();
  if (padModeNamed(op.mode()) == PadMode::Reflect) {
    auto pad = shapes.resolvedPadding ? *shapes.resolvedPadding : explicitPadding(op.pad());
    for (int k = 0; k < 4; ++k)
      if (pad[k] >= (*in)[2 + k % 2]) {
        layerError(op, "reflect padding " + std::to_string(pad[k]) +
                           " needs an input larger than that, got " + hw((*in)[2], (*in)[3]));
        return failure();
      }
  }
  auto k = getInts(op.kernel());
  shapes.result = {(*in)[0], filters, h, w};
  shapes.params.push_back({op.weight(), {filters, channels / groups, k[0], k[1]}});
  if (op.bias())
    shapes.params.push_back({op.bias(), {filters}});
  return shapes;
}

template <typename PoolOp> FailureOr<InferredShapes> poolShapes(PoolOp op, bool useSamePadding) {
  FailureOr<Shape> in = imageInput(op);
  if (failed(in) || (!useSamePadding && failed(checkPoolPadding(op))))
    return failure();
  InferredShapes shapes;
  int64_t h, w;
  if (failed(windowOutput(op, *in, useSamePadding, shapes, h, w)))
    return failure();
  shapes.result = {(*in)[0], (*in)[1], h, w};
  return shapes;
}

FailureOr<InferredShapes> denseShapes(DenseOp op) {
  Shape in = *rankedShape(op.input());
  // Over channels, a C x H x W input is transformed at every pixel.
  bool perPixel = op.over() == "channels" && in.size() == 4;
  if (in.size() != 2 && !perPixel) {
    layerError(op, "expects flat features but gets a " + shapeString(in) +
                       " tensor; insert `flatten` before it (or write `over: channels` to "
                       "apply it to the channels of every pixel)");
    return failure();
  }
  if (auto declared = op.in()) {
    if (static_cast<int64_t>(*declared) != in[1]) {
      std::string from;
      if (auto flat = op.input().getDefiningOp<FlattenOp>())
        if (auto src = rankedShape(flat.input()))
          from = " (" + shapeString(*src) + " flattened)";
      layerError(op, "declares `in: " + std::to_string(*declared) + "` but receives " +
                         std::to_string(in[1]) + (perPixel ? " channels" : " features") + from);
      return failure();
    }
  }
  InferredShapes shapes;
  int64_t units = op.units();
  shapes.result = in;
  shapes.result[1] = units;
  shapes.params.push_back({op.weight(), {units, in[1]}});
  if (op.bias())
    shapes.params.push_back({op.bias(), {units}});
  return shapes;
}

FailureOr<InferredShapes> batchNormShapes(BatchNormOp op) {
  Shape in = *rankedShape(op.input());
  InferredShapes shapes;
  shapes.result = in;
  for (Value p : {op.weight(), op.bias(), op.running_mean(), op.running_var()})
    shapes.params.push_back({p, {in[1]}});
  return shapes;
}

/// Per-channel parameters of a layernorm, layer scale or prelu: the input
/// is N x C or N x C x H x W.
FailureOr<Shape> channelsInput(Operation *op) {
  Shape in = *rankedShape(op->getOperand(0));
  if (in.size() != 2 && in.size() != 4) {
    layerError(op, "expects an N x C or N x C x H x W tensor, got " + shapeString(in));
    return failure();
  }
  return in;
}

FailureOr<InferredShapes> layerNormShapes(LayerNormOp op) {
  FailureOr<Shape> in = channelsInput(op);
  if (failed(in))
    return failure();
  InferredShapes shapes;
  shapes.result = *in;
  for (Value p : {op.weight(), op.bias()})
    shapes.params.push_back({p, {(*in)[1]}});
  return shapes;
}

FailureOr<InferredShapes> layerScaleShapes(LayerScaleOp op) {
  FailureOr<Shape> in = channelsInput(op);
  if (failed(in))
    return failure();
  InferredShapes shapes;
  shapes.result = *in;
  // torchvision's C x 1 x 1, which broadcasts over the pixels.
  Shape scale = in->size() == 4 ? Shape{(*in)[1], 1, 1} : Shape{(*in)[1]};
  shapes.params.push_back({op.weight(), scale});
  return shapes;
}

FailureOr<InferredShapes> preluShapes(PReLUOp op) {
  FailureOr<Shape> in = channelsInput(op);
  if (failed(in))
    return failure();
  int64_t slopes = op.num_parameters();
  if (slopes != 1 && slopes != (*in)[1]) {
    layerError(op, "has `num_parameters: " + std::to_string(slopes) +
                       "`, but it must be 1 (one slope) or the input's " +
                       std::to_string((*in)[1]) + " channels");
    return failure();
  }
  InferredShapes shapes;
  shapes.result = *in;
  shapes.params.push_back({op.weight(), {slopes}});
  return shapes;
}

/// Checks that the inputs of a concat, add or mul agree; explains a mismatch.
FailureOr<InferredShapes> mergeShapes(Operation *op, bool isConcat) {
  llvm::SmallVector<Shape, 4> ins;
  for (Value v : op->getOperands())
    ins.push_back(*rankedShape(v));
  // add and mul broadcast a branch of 1x1 pixels over the others' (PyTorch's
  // N x C x 1 x 1 against N x C x H x W); the result has the others' size.
  auto isPoint = [](const Shape &s) { return s.size() == 4 && s[2] == 1 && s[3] == 1; };
  size_t full = 0;
  if (!isConcat)
    for (size_t b = 0; b < ins.size(); ++b)
      if (!isPoint(ins[b])) {
        full = b;
        break;
      }
  const Shape &first = ins.front();
  Shape result = first;
  if (!isConcat && ins[full].size() == 4) {
    result[2] = ins[full][2];
    result[3] = ins[full][3];
  }
  for (size_t b = 1; b < ins.size(); ++b) {
    const Shape &s = ins[b];
    std::string branch = "branch " + std::to_string(b + 1);
    if (s.size() != first.size()) {
      layerError(op, "branch 1 is " + shapeString(first) + " but " + branch + " is " +
                         shapeString(s) + "; cannot merge a flat and an image tensor");
      return failure();
    }
    // Pixels are compared with the first branch that is not broadcast.
    const Shape &ref = ins[full];
    std::string refBranch = "branch " + std::to_string(full + 1);
    bool broadcast = !isConcat && isPoint(s);
    bool spatialDiffers =
        !broadcast && b != full && s.size() == 4 && (s[2] != ref[2] || s[3] != ref[3]);
    if (spatialDiffers) {
      InFlightDiagnostic d =
          layerError(op, "branches differ in spatial size: " + refBranch + " is " +
                             shapeString(ref) + ", " + branch + " is " + shapeString(s) +
                             (isConcat ? "" : " (only a 1x1 branch is broadcast)"));
      // Blame the branch that moved away from the merge's input size, if one did.
      Operation *culprit = spatialCulprit(op->getOperand(b));
      std::string who = branch;
      int64_t th = ref[2], tw = ref[3];
      if (!culprit) {
        culprit = spatialCulprit(op->getOperand(full));
        who = refBranch;
        th = s[2], tw = s[3];
      }
      if (culprit)
        explainSpatialSize(d, culprit, who, th, tw);
      return failure();
    }
    if (isConcat) {
      result[1] += s[1];
    } else if (s[1] != first[1]) {
      bool isAdd = isa<AddOp>(op);
      InFlightDiagnostic d =
          layerError(op, std::string("cannot ") + (isAdd ? "add" : "multiply") + " branch 1 (" +
                             shapeString(first) + ") and " + branch + " (" + shapeString(s) +
                             "): channel counts differ");
      if (isAdd)
        d.attachNote(op->getLoc())
            << "a residual shortcut that changes shape needs a projection: write "
               "`{ project }` (1x1 conv + batchnorm) as the shortcut branch";
      return failure();
    }
  }
  InferredShapes shapes;
  shapes.result = result;
  return shapes;
}

/// Adaptive pooling: the output size is given; the generated code indexes
/// windows with i * n and (x + 1) * m in 32 bits.
template <typename AdaptivePoolOp> FailureOr<InferredShapes> adaptivePoolShapes(AdaptivePoolOp p) {
  FailureOr<Shape> in = imageInput(p);
  if (failed(in))
    return failure();
  auto size = getInts(p.output_size());
  if (size.size() != 2) {
    layerError(p, "output_size must be [h, w]");
    return failure();
  }
  constexpr int64_t kIndexLimit = std::numeric_limits<int32_t>::max();
  for (int axis = 0; axis < 2; ++axis) {
    int64_t n = (*in)[2 + axis], m = size[axis];
    if (m < 1 || m > kIndexLimit / (n + 1) || n > kIndexLimit / (m + 1)) {
      layerError(p, "output size " + square(size[0], size[1]) + " from a " +
                        hw((*in)[2], (*in)[3]) +
                        " input is out of range: each output side must be at least 1, and "
                        "(input + 1) x output at most 2^31 - 1 along each axis");
      return failure();
    }
  }
  InferredShapes shapes;
  shapes.result = {(*in)[0], (*in)[1], size[0], size[1]};
  return shapes;
}

FailureOr<InferredShapes> sameAsInput(Operation *op) {
  InferredShapes shapes;
  shapes.result = *rankedShape(op->getOperand(0));
  return shapes;
}

} // namespace

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  return shape.empty() ? "" : dimsString(shape.data() + 1, shape.size() - 1);
}

FailureOr<InferredShapes> computeShapes(Operation *op) {
  for (Value v : op->getOperands())
    if (!isParam(v) && !rankedShape(v))
      return failure();
  return llvm::TypeSwitch<Operation *, FailureOr<InferredShapes>>(op)
      .Case([](Conv2DOp c) { return convShapes(c); })
      .Case([](MaxPool2DOp p) { return poolShapes(p, isSamePadding(p.pad())); })
      .Case([](AvgPool2DOp p) { return poolShapes(p, isSamePadding(p.pad())); })
      .Case([](L2Pool2DOp p) { return poolShapes(p, false); })
      .Case([](GlobalAvgPool2DOp p) -> FailureOr<InferredShapes> {
        FailureOr<Shape> in = imageInput(p);
        if (failed(in))
          return failure();
        InferredShapes shapes;
        shapes.result = {(*in)[0], (*in)[1], 1, 1};
        return shapes;
      })
      .Case([](AdaptiveAvgPool2DOp p) { return adaptivePoolShapes(p); })
      .Case([](AdaptiveMaxPool2DOp p) { return adaptivePoolShapes(p); })
      .Case([](DenseOp d) { return denseShapes(d); })
      .Case([](BatchNormOp b) { return batchNormShapes(b); })
      .Case([](LayerNormOp l) { return layerNormShapes(l); })
      .Case([](LayerScaleOp l) { return layerScaleShapes(l); })
      .Case([](PReLUOp p) { return preluShapes(p); })
      .Case([](AugmentOp a) -> FailureOr<InferredShapes> {
        if (failed(imageInput(a)))
          return failure();
        return sameAsInput(a);
      })
      .Case([](LRNOp l) -> FailureOr<InferredShapes> {
        if (failed(imageInput(l)))
          return failure();
        return sameAsInput(l);
      })
      .Case([](FlattenOp f) {
        Shape in = *rankedShape(f.input());
        InferredShapes shapes;
        int64_t features = 1;
        for (size_t i = 1; i < in.size(); ++i)
          features *= in[i];
        shapes.result = {in[0], features};
        return shapes;
      })
      .Case([](ChunkOp c) -> FailureOr<InferredShapes> {
        FailureOr<Shape> in = imageInput(c);
        if (failed(in))
          return failure();
        int64_t channels = (*in)[1], chunks = c.chunks(), index = c.index();
        InferredShapes shapes;
        shapes.result = *in;
        shapes.result[1] = chunkChannels(channels, chunks, index);
        if (shapes.result[1] == 0) {
          layerError(c, "has no piece " + std::to_string(index) + ": " + std::to_string(chunks) +
                            " chunks of " + std::to_string(channels) + " channels are " +
                            std::to_string(chunkPieces(channels, chunks)) + " pieces of at most " +
                            std::to_string(chunkSize(channels, chunks)) +
                            " channels (torch.chunk), numbered from 0");
          return failure();
        }
        return shapes;
      })
      .Case([](ChannelShuffleOp s) -> FailureOr<InferredShapes> {
        FailureOr<Shape> in = imageInput(s);
        if (failed(in))
          return failure();
        if ((*in)[1] % s.groups() != 0) {
          layerError(s, "needs channels divisible by its " + std::to_string(s.groups()) +
                            " groups, but gets " + std::to_string((*in)[1]));
          return failure();
        }
        return sameAsInput(s);
      })
      .Case([](ConcatOp c) { return mergeShapes(c, true); })
      .Case([](AddOp a) { return mergeShapes(a, false); })
      .Case([](MulOp m) { return mergeShapes(m, false); })
      .Case([](ProjectOp p) {
        InferredShapes shapes;
        shapes.result = *rankedShape(p.reference());
        return shapes;
      })
      .Case<DropoutOp, StochasticDepthOp, SoftmaxOp>([](Operation *o) { return sameAsInput(o); })
      .Default([](Operation *o) -> FailureOr<InferredShapes> {
        std::optional<LayerKind> kind = layerKindOf(o);
        if (kind && layerFamily(*kind) == LayerFamily::Activation)
          return sameAsInput(o);
        o->emitOpError("has no shape rule");
        return failure();
      });
}

static Type tensorOf(MLIRContext *ctx, llvm::ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, FloatType::getF32(ctx));
}

LogicalResult applyShapes(Operation *op) {
  FailureOr<InferredShapes> shapes = computeShapes(op);
  if (failed(shapes))
    return failure();
  MLIRContext *ctx = op->getContext();
  op->getResult(0).setType(tensorOf(ctx, shapes->result));
  for (auto &[param, shape] : shapes->params) {
    if (auto ranked = rankedShape(param)) {
      if (*ranked != shape)
        return layerError(op, "parameter has shape " + shapeString(*ranked) +
                                  " but the layer needs " + shapeString(shape));
      continue;
    }
    param.setType(tensorOf(ctx, shape));
  }
  if (shapes->resolvedPadding) {
    Builder b(ctx);
    op->setAttr("pad", b.getI64ArrayAttr(*shapes->resolvedPadding));
  }
  return success();
}

LogicalResult verifyShapes(Operation *op) {
  for (Value v : op->getOperands())
    if (!isParam(v) && !rankedShape(v))
      return success();
  llvm::Optional<Shape> result = rankedShape(op->getResult(0));
  if (!result)
    return success();
  FailureOr<InferredShapes> shapes = computeShapes(op);
  if (failed(shapes))
    return failure();
  auto sameDims = [](llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i] && a[i] != ShapedType::kDynamicSize && b[i] != ShapedType::kDynamicSize)
        return false;
    return true;
  };
  if (!sameDims(*result, shapes->result))
    return op->emitOpError() << "result shape " << shapeString(*result)
                             << " does not match the inferred " << shapeString(shapes->result);
  for (auto &[param, shape] : shapes->params)
    if (auto ranked = rankedShape(param))
      if (!sameDims(*ranked, shape))
        return op->emitOpError() << "parameter shape " << shapeString(*ranked)
                                 << " does not match the expected " << shapeString(shape);
  return success();
}

} // namespace cnnc::cnn
