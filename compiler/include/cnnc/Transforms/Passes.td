//===- Passes.td - cnnc's passes on the cnn dialect --------*- tablegen -*-===//
#ifndef CNNC_TRANSFORMS_PASSES
#define CNNC_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def ShapeInference : Pass<"cnn-shape-inference", "mlir::FuncOp"> {
  let summary = "Give every value of a network its static C, H, W";
  let description = [{
    Precondition: the function's arguments are ranked (`tensor<?xCxHxWxf32>`);
    layer results and `cnn.param` values may be unranked. Works through the ops
    in a worklist: an op whose data operands are all ranked infers its result
    (and its parameters' shapes) through the ShapeInference interface. Shape
    errors are reported at the op's location, with a note that names the
    layer to blame where one is. Afterwards the function type matches its
    `cnn.return`. Resolves `same` padding into explicit padding.
  }];
  let constructor = "cnnc::createShapeInferencePass()";
}

def MaterializeProjections : Pass<"cnn-materialize-projections", "mlir::FuncOp"> {
  let summary = "Replace `cnn.project` shortcuts by the identity or conv+batchnorm";
  let description = [{
    Precondition: shapes are inferred. A `cnn.project` whose input already
    has its reference's shape becomes the identity; otherwise it becomes a 1x1
    `cnn.conv2d` without bias (stride = input size / reference size) followed
    by a `cnn.batchnorm`, named `<layer>.0` and `<layer>.1` with new
    `cnn.param`s, exactly torchvision's `downsample`. Fails, at the op, when the
    spatial sizes are not an integer ratio apart.
  }];
  let constructor = "cnnc::createMaterializeProjectionsPass()";
}

def PrintReport : Pass<"cnn-print-report", "mlir::ModuleOp"> {
  let summary = "Print the shape / receptive-field report of each network";
  let description = [{
    Precondition: shapes are inferred and projections materialized. Prints,
    per layer, the output shape, parameters, MACs and receptive field, then
    the totals; see docs/reports.md.
  }];
  let constructor = "cnnc::createPrintReportPass()";
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"text\"",
           "text or json">
  ];
}

#endif // CNNC_TRANSFORMS_PASSES
