//===- CNNDialect.td - The cnn dialect ---------------------*- tablegen -*-===//
#ifndef CNN_DIALECT
#define CNN_DIALECT

include "mlir/IR/OpBase.td"

def CNN_Dialect : Dialect {
  let name = "cnn";
  let cppNamespace = "::cnnc::cnn";
  let summary = "Convolutional neural network layers on NCHW float tensors";
  let description = [{
    The `cnn` dialect is cnnc's graph form of a network: one `builtin.func`
    per network whose arguments are the inputs (`tensor<?xCxHxWxf32>`, the
    batch dynamic) and whose `cnn.return` gives the outputs. Every layer is one
    op that carries its hyperparameters as attributes and its PyTorch-style
    name in `layer`; learned tensors are `cnn.param` values named like
    PyTorch's state_dict (`%conv1.weight`). Before shape inference the results
    are unranked; the `cnn-shape-inference` pass gives every value its static
    C, H, W.
  }];
}

#endif // CNN_DIALECT
