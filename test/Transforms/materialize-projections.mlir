// RUN: cnnc-opt %s --cnn-materialize-projections -split-input-file -verify-diagnostics | FileCheck %s

// Same shape: the projection is the identity.
// CHECK-LABEL: func @identity
// CHECK-NOT: cnn.project
// CHECK: cnn.add %arg0, %arg0
func @identity(%x: tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32> {
  %p = cnn.project %x, %x {layer = "d"} : (tensor<?x4x8x8xf32>, tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  %a = cnn.add %x, %p {layer = "a"} : (tensor<?x4x8x8xf32>, tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32>
  cnn.return %a {names = ["out"]} : tensor<?x4x8x8xf32>
}

// -----

// More channels and half the size: 1x1 conv, stride 2, no bias, + batchnorm,
// named like torchvision's downsample.
// CHECK-LABEL: func @project
// CHECK: %d.0.weight = cnn.param "d.0.weight" : tensor<8x4x1x1xf32>
// CHECK: %d.0 = cnn.conv2d %arg0, %d.0.weight {{.*}}filters = 8 : i64{{.*}}kernel = [1, 1], layer = "d.0"{{.*}}stride = [2, 2]} : {{.*}} -> tensor<?x8x4x4xf32>
// CHECK: cnn.param "d.1.running_var" {buffer} : tensor<8xf32>
// CHECK: %d.1 = cnn.batchnorm %d.0
// CHECK: cnn.add %arg1, %d.1
func @project(%x: tensor<?x4x8x8xf32>, %y: tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32> {
  %p = cnn.project %x, %y {layer = "d"} : (tensor<?x4x8x8xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %a = cnn.add %y, %p {layer = "a"} : (tensor<?x8x4x4xf32>, tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  cnn.return %a {names = ["out"]} : tensor<?x8x4x4xf32>
}

// -----

func @impossible(%x: tensor<?x4x8x8xf32>, %y: tensor<?x4x9x9xf32>) -> tensor<?x4x9x9xf32> {
  // expected-error @+1 {{project `d`: no 1x1 strided convolution maps 8x8 to 9x9}}
  %p = cnn.project %x, %y {layer = "d"} : (tensor<?x4x8x8xf32>, tensor<?x4x9x9xf32>) -> tensor<?x4x9x9xf32>
  cnn.return %p {names = ["out"]} : tensor<?x4x9x9xf32>
}
