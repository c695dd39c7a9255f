//===- CNNOps.td - Operations of the cnn dialect -----------*- tablegen -*-===//
//
// Every layer op has a `layer` attribute (its qualified PyTorch-style name),
// an optional-until-inferred result shape, and a verifier that checks its
// attributes and, when operand and result are ranked, that the result shape
// is the one the layer arithmetic gives (cnnc/Arithmetic/LayerArithmetic.h).
// A layer's attributes are its parameters in the .cnn language, with the
// same names, types and bounds (cnnc/DSL/LayerSpec.h); the mnemonics are
// listed with the layer kinds (cnnc/DSL/LayerKinds.def).
//
//===----------------------------------------------------------------------===//
#ifndef CNN_OPS
#define CNN_OPS

include "cnnc/Dialect/CNN/CNNDialect.td"
include "cnnc/Dialect/CNN/ShapeInferenceInterface.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class CNN_Op<string mnemonic, list<Trait> traits = []>
    : Op<CNN_Dialect, mnemonic, traits>;

/// A layer: named, shape-inferred, printed as `%<layer name> = ...`.
class CNN_LayerOp<string mnemonic, list<Trait> traits = []>
    : CNN_Op<mnemonic, !listconcat(traits, [NoSideEffect, OpAsmOpInterface,
        CNN_ShapeInferenceOpInterface])> {
  let results = (outs AnyTensor:$output);
  let verifier = [{ return ::verify(*this); }];
  let extraClassDeclaration = [{
    void getAsmResultNames(::mlir::OpAsmSetValueNameFn setNameFn) {
      setNameFn(getResult(), layer());
    }
  }];
}

/// `pad`: [top, left, bottom, right], or "same" until shape inference
/// resolves it.
def CNN_PadAttr : AnyAttrOf<[I64ArrayAttr, StrAttr], "padding or \"same\"">;

//===----------------------------------------------------------------------===//
// Parameters and the terminator
//===----------------------------------------------------------------------===//

def CNN_ParamOp : CNN_Op<"param", [NoSideEffect, OpAsmOpInterface]> {
  let summary = "a learned tensor or buffer of the network";
  let description = [{
    A named tensor that the runtime loads and saves: `name` is the PyTorch
    state_dict key. Its shape is set by shape inference from the layer that
    uses it. `buffer` marks running statistics (not trained by gradient);
    `frozen` marks parameters excluded from training.

    ```mlir
    %conv1.weight = cnn.param "conv1.weight" : tensor<6x1x5x5xf32>
    %bn1.running_mean = cnn.param "bn1.running_mean" {buffer} : tensor<6xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, UnitAttr:$buffer, UnitAttr:$frozen);
  let results = (outs AnyTensor:$value);
  let assemblyFormat = "$name attr-dict `:` type($value)";
  let extraClassDeclaration = [{
    void getAsmResultNames(::mlir::OpAsmSetValueNameFn setNameFn) {
      setNameFn(getResult(), name());
    }
  }];
}

def CNN_ReturnOp : CNN_Op<"return", [NoSideEffect, Terminator, ReturnLike,
                                     HasParent<"::mlir::FuncOp">]> {
  let summary = "the network's outputs";
  let description = [{
    Terminates a network function; `names` gives each output its name.

    ```mlir
    cnn.return %fc3 {names = ["logits"]} : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$outputs, StrArrayAttr:$names);
  let assemblyFormat = "$outputs attr-dict `:` type($outputs)";
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// Convolution and dense
//===----------------------------------------------------------------------===//

def CNN_Conv2DOp : CNN_LayerOp<"conv2d"> {
  let summary = "2-D convolution (cross-correlation) over NCHW";
  let description = [{
    `out[n, o, y, x] = bias[o] + sum_{c, i, j} in_padded[n, g(o) + c,
    y * sh + i * dh, x * sw + j * dw] * weight[o, c, i, j]`, with
    `filters` output channels, `groups` channel groups, explicit padding
    `pad` = `[top, left, bottom, right]` (or `"same"`, resolved by shape
    inference), and padding `mode` zeros, replicate or reflect. A `table` (LeNet-5's
    partial connections) lists for each output channel the input channels it
    reads; the weight keeps PyTorch's dense shape and the table masks it.

    ```mlir
    %conv1 = cnn.conv2d %image, %conv1.weight, %conv1.bias {dilation = [1, 1],
        filters = 16 : i64, groups = 1 : i64, kernel = [5, 5], layer = "conv1",
        mode = "zeros", pad = [2, 2, 2, 2], stride = [1, 1]}
        : (tensor<?x1x28x28xf32>, tensor<16x1x5x5xf32>, tensor<16xf32>)
        -> tensor<?x16x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, Optional<AnyTensor>:$bias,
                   StrAttr:$layer, I64Attr:$filters, I64ArrayAttr:$kernel,
                   I64ArrayAttr:$stride, CNN_PadAttr:$pad,
                   I64ArrayAttr:$dilation, I64Attr:$groups, StrAttr:$mode,
                   OptionalAttr<ArrayAttr>:$table);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_DenseOp : CNN_LayerOp<"dense"> {
  let summary = "fully connected layer: out = in * weight^T + bias";
  let description = [{
    With `over = "features"`, takes `tensor<?xFxf32>` (use `cnn.flatten`
    first) and gives `tensor<?xUxf32>` with `units` = U. With `over =
    "channels"` it is applied at every pixel of `tensor<?xCxHxWxf32>`
    (nn.Linear on a channels-last tensor, ConvNeXt's pointwise layers) and
    gives `tensor<?xUxHxWxf32>`; the weight keeps nn.Linear's U x C shape.
    `in`, when the user declared it, must equal F (or C).

    ```mlir
    %fc = cnn.dense %flat, %fc.weight, %fc.bias {layer = "fc", over = "features",
        units = 10 : i64}
        : (tensor<?x1568xf32>, tensor<10x1568xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, Optional<AnyTensor>:$bias,
                   StrAttr:$layer, I64Attr:$units, OptionalAttr<I64Attr>:$in, StrAttr:$over);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def CNN_MaxPool2DOp : CNN_LayerOp<"max_pool2d"> {
  let summary = "max pooling over windows (padding counts as -inf)";
  let description = [{
    ```mlir
    %pool1 = cnn.max_pool2d %relu1 {ceil = false, dilation = [1, 1],
        kernel = [2, 2], layer = "pool1", pad = [0, 0, 0, 0], stride = [2, 2]}
        : (tensor<?x16x28x28xf32>) -> tensor<?x16x14x14xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64ArrayAttr:$kernel,
                   I64ArrayAttr:$stride, CNN_PadAttr:$pad, I64ArrayAttr:$dilation,
                   BoolAttr:$ceil);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_AvgPool2DOp : CNN_LayerOp<"avg_pool2d"> {
  let summary = "average pooling over windows";
  let description = [{
    With `count_include_pad` (PyTorch's default) every window is divided by
    its full size, padding included; otherwise by the number of input pixels
    it covers.

    ```mlir
    %p = cnn.avg_pool2d %x {ceil = false, count_include_pad = true,
        kernel = [2, 2], layer = "pool", pad = [0, 0, 0, 0], stride = [2, 2]}
        : (tensor<?x6x28x28xf32>) -> tensor<?x6x14x14xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64ArrayAttr:$kernel,
                   I64ArrayAttr:$stride, CNN_PadAttr:$pad, BoolAttr:$ceil,
                   BoolAttr:$count_include_pad);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_L2Pool2DOp : CNN_LayerOp<"l2_pool2d"> {
  let summary = "L2 pooling: sqrt of the sum of squares over each window";
  let description = [{
    PyTorch's `LPPool2d(2, kernel, stride, ceil_mode)`; no padding.

    ```mlir
    %p = cnn.l2_pool2d %x {ceil = false, kernel = [3, 3], layer = "pool",
        stride = [2, 2]} : (tensor<?x8x9x9xf32>) -> tensor<?x8x4x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64ArrayAttr:$kernel,
                   I64ArrayAttr:$stride, BoolAttr:$ceil);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_GlobalAvgPool2DOp : CNN_LayerOp<"global_avg_pool2d"> {
  let summary = "average over the whole spatial extent: CxHxW -> Cx1x1";
  let description = [{
    ```mlir
    %gap = cnn.global_avg_pool2d %x {layer = "gap"}
        : (tensor<?x512x7x7xf32>) -> tensor<?x512x1x1xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

class CNN_AdaptivePoolOp<string mnemonic, string what, string example>
    : CNN_LayerOp<mnemonic> {
  let summary = what # " over windows that tile the input into `output_size`";
  let description = [{
    Along an axis of n input pixels and m outputs, output i reduces input
    pixels [floor(i n / m), ceil((i + 1) n / m)): windows that may differ in
    size by one and overlap, as PyTorch's adaptive pooling defines them.
    Where m divides n it is pooling with kernel = stride = n / m.

    ```mlir
  }] # example # [{
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64ArrayAttr:$output_size);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_AdaptiveAvgPool2DOp : CNN_AdaptivePoolOp<"adaptive_avg_pool2d", "average", [{
    %avgpool = cnn.adaptive_avg_pool2d %x {layer = "avgpool", output_size = [7, 7]}
        : (tensor<?x512x9x9xf32>) -> tensor<?x512x7x7xf32>
}]>;

def CNN_AdaptiveMaxPool2DOp : CNN_AdaptivePoolOp<"adaptive_max_pool2d", "maximum", [{
    %pool = cnn.adaptive_max_pool2d %x {layer = "pool", output_size = [2, 3]}
        : (tensor<?x16x5x7xf32>) -> tensor<?x16x2x3xf32>
}]>;

//===----------------------------------------------------------------------===//
// Normalization, reshaping, regularization
//===----------------------------------------------------------------------===//

def CNN_BatchNormOp : CNN_LayerOp<"batchnorm"> {
  let summary = "batch normalization over channels";
  let description = [{
    `(x - mean) / sqrt(var + eps) * weight + bias` per channel of an NCHW
    or NxF tensor; at inference mean and var are the running statistics.

    ```mlir
    %bn1 = cnn.batchnorm %conv1, %bn1.weight, %bn1.bias, %bn1.running_mean,
        %bn1.running_var {eps = 1.0e-05 : f64, layer = "bn1",
        momentum = 1.0e-01 : f64} : (...) -> tensor<?x16x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, AnyTensor:$bias,
                   AnyTensor:$running_mean, AnyTensor:$running_var, StrAttr:$layer,
                   F64Attr:$eps, F64Attr:$momentum);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict `:`
    functional-type(operands, results)
  }];
}

def CNN_LRNOp : CNN_LayerOp<"lrn"> {
  let summary = "local response normalization across channels (AlexNet)";
  let description = [{
    PyTorch's `LocalResponseNorm(size, alpha, beta, k)`:
    `x / (k + alpha / size * sum_{size neighbouring channels} x^2)^beta`.

    ```mlir
    %lrn1 = cnn.lrn %relu1 {alpha = 1.0e-04 : f64, beta = 7.5e-01 : f64,
        k = 2.0 : f64, layer = "lrn1", size = 5 : i64}
        : (tensor<?x96x55x55xf32>) -> tensor<?x96x55x55xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64Attr:$size, F64Attr:$alpha,
                   F64Attr:$beta, F64Attr:$k);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_LayerNormOp : CNN_LayerOp<"layernorm"> {
  let summary = "layer normalization over the channels of each pixel";
  let description = [{
    `(x - mean) / sqrt(var + eps) * weight + bias`, mean and (biased)
    variance over the C channels of each pixel of an NCHW tensor
    (torchvision's LayerNorm2d, nn.LayerNorm(C) on channels-last), or over
    the features of an NxF tensor (nn.LayerNorm(F)); weight and bias per
    channel.

    ```mlir
    %ln = cnn.layernorm %x, %ln.weight, %ln.bias {eps = 1.0e-06 : f64, layer = "ln"}
        : (tensor<?x96x56x56xf32>, tensor<96xf32>, tensor<96xf32>) -> tensor<?x96x56x56xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, AnyTensor:$bias, StrAttr:$layer,
                   F64Attr:$eps);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def CNN_FlattenOp : CNN_LayerOp<"flatten"> {
  let summary = "NxCxHxW -> Nx(C*H*W), channel-major like torch.flatten";
  let description = [{
    ```mlir
    %flatten = cnn.flatten %pool2 {layer = "flatten"}
        : (tensor<?x32x7x7xf32>) -> tensor<?x1568xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_ChunkOp : CNN_LayerOp<"chunk"> {
  let summary = "one piece of the channels, as torch.chunk(x, chunks, dim=1)[index]";
  let description = [{
    The channels in `chunks` pieces of ceil(C / chunks) channels, the last
    one smaller; the result is piece `index` (from 0). ShuffleNet V2 splits
    a tensor in halves with `chunk(2, index: 0)` and `chunk(2, index: 1)`.

    ```mlir
    %chunk1 = cnn.chunk %x {chunks = 2 : i64, index = 1 : i64, layer = "chunk1"}
        : (tensor<?x58x28x28xf32>) -> tensor<?x29x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64Attr:$chunks, I64Attr:$index);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_ChannelShuffleOp : CNN_LayerOp<"channel_shuffle"> {
  let summary = "ShuffleNet's channel shuffle";
  let description = [{
    The C channels seen as a `groups` x C/groups matrix and transposed:
    output channel j * groups + i is input channel i * (C / groups) + j
    (torchvision's channel_shuffle). `groups` divides C.

    ```mlir
    %channel_shuffle1 = cnn.channel_shuffle %x {groups = 2 : i64,
        layer = "channel_shuffle1"}
        : (tensor<?x116x28x28xf32>) -> tensor<?x116x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, I64Attr:$groups);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_DropoutOp : CNN_LayerOp<"dropout"> {
  let summary = "zero elements with probability p while training";
  let description = [{
    The identity at inference; while training, kept elements are scaled by
    1 / (1 - p).

    ```mlir
    %dropout1 = cnn.dropout %x {layer = "dropout1", p = 5.0e-01 : f64}
        : (tensor<?x4096xf32>) -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, F64Attr:$p);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_StochasticDepthOp : CNN_LayerOp<"stochastic_depth"> {
  let summary = "zero whole samples with probability p while training";
  let description = [{
    torchvision's StochasticDepth in mode "row" (Huang et al. 2016): the
    identity at inference; while training, each sample of the batch is
    dropped with probability p and kept ones are scaled by 1 / (1 - p). It
    goes on a residual branch, before the sum.

    ```mlir
    %sd = cnn.stochastic_depth %x {layer = "sd", p = 2.0e-01 : f64}
        : (tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, F64Attr:$p);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_AugmentOp : CNN_LayerOp<"augment"> {
  let summary = "random affine warp and horizontal flip of a network input while training";
  let description = [{
    The identity at inference. While training, each sample is warped by
    a random affine map about the image center: a shift of up to
    `translate`[0] x W and `translate`[1] x H pixels, a rotation of up to
    `rotate` degrees, a horizontal shear of up to `shear` degrees, a zoom in
    [`scale`[0], `scale`[1]] and, with `flip`, a mirror with probability
    1/2; bilinear sampling, zeros outside. Its operand must be a function
    argument that nothing else reads.

    ```mlir
    %augment1 = cnn.augment %image {flip = true, layer = "augment1",
        rotate = 1.0e+01 : f64, scale = [1.0, 1.0], shear = 0.0 : f64,
        translate = [1.0e-01, 1.0e-01]}
        : (tensor<?x1x28x28xf32>) -> tensor<?x1x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer, F64ArrayAttr:$translate,
                   F64Attr:$rotate, F64Attr:$shear, F64ArrayAttr:$scale, BoolAttr:$flip);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise activations
//===----------------------------------------------------------------------===//

/// An activation of LayerKinds.def: `params` are its parameters in the
/// language (LayerSpec.cpp), with their names; the mnemonic is the layer's
/// name. Shape inference, MLIRGen and the plan builder handle the family as
/// one: a new activation is one line here.
///
/// ```mlir
/// %lrelu = cnn.leaky_relu %x {layer = "lrelu", slope = 1.0e-02 : f64}
///     : (tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
/// ```
class CNN_ActivationOp<string mnemonic, string formula, dag params = (ins)>
    : CNN_LayerOp<mnemonic> {
  let summary = "elementwise " # formula;
  let description = "`" # formula # "` on every element; the shape is unchanged.";
  let arguments = !con((ins AnyTensor:$input, StrAttr:$layer), params);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def CNN_ReLUOp : CNN_ActivationOp<"relu", "max(x, 0)">;
def CNN_LeakyReLUOp : CNN_ActivationOp<"leaky_relu", "x > 0 ? x : slope * x",
                                       (ins F64Attr:$slope)>;
def CNN_SigmoidOp : CNN_ActivationOp<"sigmoid", "1 / (1 + exp(-x))">;
def CNN_TanhOp : CNN_ActivationOp<"tanh", "tanh(x)">;
def CNN_ReLU6Op : CNN_ActivationOp<"relu6", "min(max(x, 0), 6)">;
def CNN_HardtanhOp : CNN_ActivationOp<"hardtanh", "min(max(x, min_val), max_val)",
                                      (ins F64Attr:$min_val, F64Attr:$max_val)>;
def CNN_HardsigmoidOp : CNN_ActivationOp<"hardsigmoid", "relu6(x + 3) / 6">;
def CNN_HardswishOp : CNN_ActivationOp<"hardswish", "x * relu6(x + 3) / 6">;
def CNN_SiLUOp : CNN_ActivationOp<"silu", "x * sigmoid(x)">;
def CNN_GELUOp : CNN_ActivationOp<"gelu", "x * Phi(x), or its tanh approximation",
                                  (ins StrAttr:$approximate)>;
def CNN_ELUOp : CNN_ActivationOp<"elu", "x > 0 ? x : alpha * (exp(x) - 1)",
                                 (ins F64Attr:$alpha)>;
def CNN_ScaleOp : CNN_ActivationOp<"scale", "factor * x", (ins F64Attr:$factor)>;

//===----------------------------------------------------------------------===//
// Elementwise functions of a learned value per channel
//===----------------------------------------------------------------------===//

def CNN_LayerScaleOp : CNN_LayerOp<"layer_scale"> {
  let summary = "a learned scale per channel: x * scale[c] (ConvNeXt)";
  let description = [{
    The scale is C x 1 x 1 for an NCHW tensor (torchvision's CNBlock
    `layer_scale`) and C for an NxC one; `init` is its initial value.

    ```mlir
    %ls = cnn.layer_scale %x, %ls {init = 1.0e-06 : f64, layer = "ls"}
        : (tensor<?x96x56x56xf32>, tensor<96x1x1xf32>) -> tensor<?x96x56x56xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, StrAttr:$layer, F64Attr:$init);
  let assemblyFormat = "$input `,` $weight attr-dict `:` functional-type(operands, results)";
}

def CNN_PReLUOp : CNN_LayerOp<"prelu"> {
  let summary = "x > 0 ? x : a * x with a learned slope a (nn.PReLU)";
  let description = [{
    `num_parameters` slopes: 1 (shared by every channel) or C (one per
    channel); `init` is their initial value.

    ```mlir
    %prelu = cnn.prelu %x, %prelu.weight {init = 2.5e-01 : f64, layer = "prelu",
        num_parameters = 1 : i64}
        : (tensor<?x16x8x8xf32>, tensor<1xf32>) -> tensor<?x16x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, StrAttr:$layer,
                   I64Attr:$num_parameters, F64Attr:$init);
  let assemblyFormat = "$input `,` $weight attr-dict `:` functional-type(operands, results)";
}

def CNN_SoftmaxOp : CNN_LayerOp<"softmax"> {
  let summary = "softmax over dimension 1 (channels or features)";
  let description = [{
    ```mlir
    %prob = cnn.softmax %logits {layer = "prob"} : (tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, StrAttr:$layer);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Multi-branch merges and shortcuts
//===----------------------------------------------------------------------===//

def CNN_ConcatOp : CNN_LayerOp<"concat"> {
  let summary = "concatenate NCHW tensors along channels";
  let description = [{
    All inputs must have the same H and W (inception modules).

    ```mlir
    %concat1 = cnn.concat %a, %b {layer = "concat1"}
        : (tensor<?x64x28x28xf32>, tensor<?x128x28x28xf32>) -> tensor<?x192x28x28xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, StrAttr:$layer);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def CNN_AddOp : CNN_LayerOp<"add"> {
  let summary = "elementwise sum of tensors (residual shortcuts); 1x1 branches broadcast";
  let description = [{
    ```mlir
    %add1 = cnn.add %bn2, %x {layer = "add1"}
        : (tensor<?x64x56x56xf32>, tensor<?x64x56x56xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, StrAttr:$layer);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def CNN_MulOp : CNN_LayerOp<"mul"> {
  let summary = "elementwise product of tensors (squeeze-and-excitation's channel scaling)";
  let description = [{
    The branches have one channel count; a branch of 1x1 pixels is broadcast
    over the others' pixels (PyTorch's broadcasting of N x C x 1 x 1 against
    N x C x H x W), as in `add`.

    ```mlir
    %mul1 = cnn.mul %x, %scale {layer = "mul1"}
        : (tensor<?x64x28x28xf32>, tensor<?x64x1x1xf32>) -> tensor<?x64x28x28xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, StrAttr:$layer);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def CNN_ProjectOp : CNN_LayerOp<"project"> {
  let summary = "a shortcut that takes the shape of another tensor";
  let description = [{
    The identity when `input` already has the shape of `reference`, otherwise
    a projection: a 1x1 convolution without bias (stride = the ratio of the
    spatial sizes) and a batchnorm, named `<layer>.0` and `<layer>.1` as in
    torchvision's `downsample`. Shape inference gives it the reference's
    shape; the `cnn-materialize-projections` pass replaces it by one or the
    other.

    ```mlir
    %downsample = cnn.project %x, %bn2 {layer = "layer2.0.downsample"}
        : (tensor<?x64x56x56xf32>, tensor<?x128x28x28xf32>) -> tensor<?x128x28x28xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$reference, StrAttr:$layer,
                   UnitAttr:$frozen);
  let assemblyFormat = "$input `,` $reference attr-dict `:` functional-type(operands, results)";
}

#endif // CNN_OPS
