//===- ShapeInferenceInterface.td - Shape inference interface -*- tablegen -*-===//
#ifndef CNN_SHAPE_INFERENCE_INTERFACE
#define CNN_SHAPE_INFERENCE_INTERFACE

include "mlir/IR/OpBase.td"

def CNN_ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let cppNamespace = "::cnnc::cnn";
  let description = [{
    An op whose result shape follows from its operands' shapes and its
    attributes. `inferShapes` is called once every data operand is ranked; it
    sets the result type, gives the op's `cnn.param` operands their shapes,
    and reports a located error when the shapes do not fit.
  }];
  let methods = [
    // Every layer op's rule is in OpShapes.cpp, chosen by its kind.
    InterfaceMethod<"Infer and set the result type (and parameter types).",
                    "::mlir::LogicalResult", "inferShapes", (ins), [{}],
                    [{ return ::cnnc::cnn::applyShapes($_op.getOperation()); }]>
  ];
}

#endif // CNN_SHAPE_INFERENCE_INTERFACE
