// Verifiers: attributes on their own, and shapes once they are known.
// RUN: cnnc-opt %s -split-input-file -verify-diagnostics

func @bad_kernel(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`kernel` entries must be at least 1, got 0}}
  %p = cnn.max_pool2d %x {ceil = false, dilation = [1, 1], kernel = [0, 2], layer = "p", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

func @bad_mode(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`mode` must be one of zeros, replicate, reflect, got "circular"}}
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 2 : i64, groups = 1 : i64, kernel = [3, 3], layer = "c", mode = "circular", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<*xf32>
  cnn.return %c {names = ["out"]} : tensor<*xf32>
}

// -----

func @wrong_result(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<?x2x8x8xf32> {
  // expected-error @+1 {{result shape 2x8x8 does not match the inferred 2x6x6}}
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 2 : i64, groups = 1 : i64, kernel = [3, 3], layer = "c", mode = "zeros", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<?x2x8x8xf32>
  cnn.return %c {names = ["out"]} : tensor<?x2x8x8xf32>
}

// -----

func @wrong_param(%x: tensor<?x1x8x8xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<?x2x6x6xf32> {
  // expected-error @+1 {{parameter shape 3x3x3 does not match the expected 1x3x3}}
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 2 : i64, groups = 1 : i64, kernel = [3, 3], layer = "c", mode = "zeros", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<?x2x6x6xf32>
  cnn.return %c {names = ["out"]} : tensor<?x2x6x6xf32>
}

// -----

func @names(%x: tensor<?x1x8x8xf32>) -> tensor<?x1x8x8xf32> {
  // expected-error @+1 {{has 1 outputs but 2 names}}
  cnn.return %x {names = ["a", "b"]} : tensor<?x1x8x8xf32>
}

// -----

func @dropout(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`p` must be in [0, 1), got 1.0}}
  %d = cnn.dropout %x {layer = "d", p = 1.0 : f64} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %d {names = ["out"]} : tensor<*xf32>
}

// -----

func @augment_not_an_argument(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  %r = cnn.relu %x {layer = "r"} : (tensor<?x1x8x8xf32>) -> tensor<?x1x8x8xf32>
  // expected-error @+1 {{must read a function argument that nothing else reads}}
  %a = cnn.augment %r {layer = "a", translate = [0.0, 0.0], rotate = 10.0 : f64, shear = 0.0 : f64, scale = [1.0, 1.0], flip = false} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %a {names = ["out"]} : tensor<*xf32>
}

// -----

func @augment_range(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`shear` must be in [0, 80) degrees, got 90.0}}
  %a = cnn.augment %x {layer = "a", translate = [0.0, 0.0], rotate = 10.0 : f64, shear = 90.0 : f64, scale = [1.0, 1.0], flip = false} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %a {names = ["out"]} : tensor<*xf32>
}

// -----

func @augment_scale(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`scale` must be [min, max] with 0 < min <= max <= 10, got [1.2, 1.1]}}
  %a = cnn.augment %x {layer = "a", translate = [0.0, 0.0], rotate = 10.0 : f64, shear = 0.0 : f64, scale = [1.2, 1.1], flip = false} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %a {names = ["out"]} : tensor<*xf32>
}

// -----

func @groups(%x: tensor<?x1x8x8xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`groups` must be at least 1, got 0}}
  %c = cnn.conv2d %x, %w {dilation = [1, 1], filters = 2 : i64, groups = 0 : i64, kernel = [3, 3], layer = "c", mode = "zeros", pad = [0, 0, 0, 0], stride = [1, 1]} : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>) -> tensor<*xf32>
  cnn.return %c {names = ["out"]} : tensor<*xf32>
}

// -----

func @pad_valid(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`pad` must be 4 integers or "same", got "valid"}}
  %p = cnn.max_pool2d %x {ceil = false, dilation = [1, 1], kernel = [2, 2], layer = "p", pad = "valid", stride = [2, 2]} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

func @hardtanh_order(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`max_val` must be greater than `min_val` (1.0), got -1.0}}
  %h = cnn.hardtanh %x {layer = "h", min_val = 1.0 : f64, max_val = -1.0 : f64} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %h {names = ["out"]} : tensor<*xf32>
}

// -----

func @gelu_mode(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`approximate` must be one of none, tanh, got "erf"}}
  %g = cnn.gelu %x {layer = "g", approximate = "erf"} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %g {names = ["out"]} : tensor<*xf32>
}

// -----

func @adaptive_zero(%x: tensor<?x1x8x8xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{`output_size` entries must be at least 1, got 0}}
  %p = cnn.adaptive_avg_pool2d %x {layer = "p", output_size = [0, 2]} : (tensor<?x1x8x8xf32>) -> tensor<*xf32>
  cnn.return %p {names = ["out"]} : tensor<*xf32>
}

// -----

func @adaptive_wrong_result(%x: tensor<?x1x9x9xf32>) -> tensor<?x1x3x3xf32> {
  // expected-error @+1 {{result shape 1x3x3 does not match the inferred 1x7x7}}
  %p = cnn.adaptive_max_pool2d %x {layer = "p", output_size = [7, 7]} : (tensor<?x1x9x9xf32>) -> tensor<?x1x3x3xf32>
  cnn.return %p {names = ["out"]} : tensor<?x1x3x3xf32>
}
