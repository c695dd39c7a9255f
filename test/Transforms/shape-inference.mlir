// RUN: cnnc-opt %s --cnn-shape-inference -split-input-file -verify-diagnostics | FileCheck %s

// Results and parameters get their shapes; the function type follows.
// CHECK-LABEL: func @conv_pool
// CHECK: cnn.param "c.weight" : tensor<8x3x3x3xf32>
// CHECK: cnn.conv2d {{.*}} -> tensor<?x8x16x16xf32>
// CHECK: cnn.max_pool2d {{.*}} -> tensor<?x8x8x8xf32>
// CHECK: cnn.return {{.*}} : tensor<?x8x8x8xf32>
func @conv_pool(%x: tensor<?x3x16x16xf32>) -> tensor<*xf32> {
  %w = cnn.param "c.weight" : tensor<*xf32>
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 8 : i64, groups = 1 : i64, kernel = [3, 3], layer = "c", mode = "zeros", pad = [1, 1, 1, 1], stride = [1, 1]} : (tensor<?x3x16x16xf32>, tensor<*xf32>) -> tensor<*xf32>
  %p = cnn.max_pool2d %c {ceil = false, dilation = [1, 1], kernel = [2, 2], layer = "p", pad = [0, 0, 0, 0], stride = [2, 2]} : (tensor<*xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

// `same` padding is resolved into explicit padding (odd unit after).
// CHECK-LABEL: func @same
// CHECK: pad = [1, 1, 2, 2]
// CHECK-NOT: "same"
// CHECK-SAME: -> tensor<?x4x8x8xf32>
func @same(%x: tensor<?x3x15x15xf32>) -> tensor<*xf32> {
  %w = cnn.param "c.weight" : tensor<*xf32>
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 4 : i64, groups = 1 : i64, kernel = [4, 4], layer = "c", mode = "zeros", pad = "same", stride = [2, 2]} : (tensor<?x3x15x15xf32>, tensor<*xf32>) -> tensor<*xf32>
  cnn.return %c {names = ["out"]} : tensor<*xf32>
}

// -----

// Ceil mode: ceil((5 - 2) / 2) + 1 = 3.
// CHECK-LABEL: func @ceil
// CHECK: -> tensor<?x2x3x3xf32>
func @ceil(%x: tensor<?x2x5x5xf32>) -> tensor<*xf32> {
  %p = cnn.avg_pool2d %x {ceil = true, count_include_pad = true, kernel = [2, 2], layer = "p", pad = [0, 0, 0, 0], stride = [2, 2]} : (tensor<?x2x5x5xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

func @too_small(%x: tensor<?x2x2x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{max_pool2d `p`: window 3x3 does not fit in its padded input 2x2}}
  %p = cnn.max_pool2d %x {ceil = false, dilation = [1, 1], kernel = [3, 3], layer = "p", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x2x2x2xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

func @concat_mismatch(%x: tensor<?x2x8x8xf32>, %y: tensor<?x2x7x7xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{concat `cat`: branches differ in spatial size: branch 1 is 2x8x8, branch 2 is 2x7x7}}
  %c = cnn.concat %x, %y {layer = "cat"} : (tensor<?x2x8x8xf32>, tensor<?x2x7x7xf32>) -> tensor<*xf32>
  cnn.return %c {names = ["out"]} : tensor<*xf32>
}
