// RUN: cnnc-opt %s --cnn-print-report | FileCheck %s
// RUN: cnnc-opt %s --cnn-print-report=format=json | FileCheck %s --check-prefix=JSON

// CHECK: network tiny
// CHECK: 1 c conv2d 2x4x4 20 288 3 2 0.5
// CHECK: MACs: 288 per image
// JSON: "network": "tiny"
// JSON: "macs": 288
func @tiny(%x: tensor<?x1x8x8xf32>) -> tensor<?x2x4x4xf32> {
  %w = cnn.param "c.weight" : tensor<2x1x3x3xf32>
  %b = cnn.param "c.bias" : tensor<2xf32>
  %c = cnn.conv2d %x, %w, %b {dilation = [1, 1], filters = 2 : i64, groups = 1 : i64, kernel = [3, 3], layer = "c", mode = "zeros", pad = [1, 1, 1, 1], stride = [2, 2]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  cnn.return %c {names = ["out"]} : tensor<?x2x4x4xf32>
}
