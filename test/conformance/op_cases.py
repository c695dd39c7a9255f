"""The operator cases shared by ops.py (forward) and gradients.py (backward):
each is a small network body in the .cnn language, its input shape, torch's
forward for it and the parameters it has. Random hyperparameters: strides,
per-side paddings, dilations, groups, padding modes, ceil mode, odd sizes."""
import os
import re
import random

import torch
import torch.nn.functional as F

SEED = int(os.environ.get("CNNC_TEST_SEED", "1234"))
rng = random.Random(SEED)
torch.manual_seed(SEED)
cases = []


def out_size(n, k, s, pb, pe, d=1, ceil=False):
    eff = d * (k - 1) + 1
    span = n + pb + pe - eff
    if span < 0:
        return 0
    o = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + pb:
        o -= 1
    return o


def case(name, shape, body, forward, params, batch=None):
    """params: name -> shape of the tensors the network has; forward(x, p)
    computes torch's result from those tensors (a dict of torch tensors)."""
    cases.append(dict(name=name, shape=shape, body=body, forward=forward, params=params,
                      batch=batch or rng.choice([1, 2, 3])))


def pair(a, b):
    return f"[{a}, {b}]"


# conv: every hyperparameter at random, including per-side padding and modes.
for i in range(14):
    while True:
        groups = rng.choice([1, 1, 1, 2, 3])
        cin = groups * rng.choice([1, 2, 3, 5])
        cout = groups * rng.choice([1, 3, 8, 11, 24, 35])
        kh, kw = rng.choice([1, 2, 3, 5]), rng.choice([1, 3, 4])
        sh, sw = rng.choice([1, 1, 2, 3]), rng.choice([1, 2])
        dh, dw = rng.choice([1, 1, 2]), rng.choice([1, 2])
        h, w = rng.randint(4, 17), rng.randint(4, 17)
        mode = rng.choice(["zeros", "zeros", "replicate", "reflect"])
        per_side = rng.random() < 0.4
        pads = [rng.randint(0, 2) for _ in range(4)] if per_side else [rng.randint(0, 2)] * 2
        t, l, b, r = pads if per_side else (pads[0], pads[1], pads[0], pads[1])
        if mode == "reflect" and max(t, b) >= h or mode == "reflect" and max(l, r) >= w:
            continue
        if out_size(h, kh, sh, t, b, dh) >= 1 and out_size(w, kw, sw, l, r, dw) >= 1:
            break
    bias = rng.random() < 0.7
    pad_text = f"[{t}, {l}, {b}, {r}]" if per_side else pair(t, l)
    body = (f"c: conv({cout}, kernel: {pair(kh, kw)}, stride: {pair(sh, sw)}, pad: {pad_text}, "
            f"dilation: {pair(dh, dw)}, groups: {groups}, bias: {str(bias).lower()}, mode: {mode})")

    def fwd(x, p, t=t, l=l, b=b, r=r, mode=mode, sh=sh, sw=sw, dh=dh, dw=dw, groups=groups):
        if mode == "zeros":
            x = F.pad(x, (l, r, t, b))
        else:
            x = F.pad(x, (l, r, t, b), mode={"replicate": "replicate", "reflect": "reflect"}[mode])
        return F.conv2d(x, p["c.weight"], p.get("c.bias"), (sh, sw), 0, (dh, dw), groups)
    params = {"c.weight": (cout, cin // groups, kh, kw)}
    if bias:
        params["c.bias"] = (cout,)
    case(f"conv{i} {body}", (cin, h, w), body, fwd, params)

# LeNet-5's partial connection table.
def random_table(inputs, filters):
    return [sorted(rng.sample(range(inputs), rng.randint(1, inputs))) for _ in range(filters)]


def table_text(table):
    return "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in table) + "]"


def table_mask(table, inputs):
    mask = torch.zeros(len(table), inputs, 1, 1)
    for o, row in enumerate(table):
        for c in row:
            mask[o, c] = 1
    return mask


table = random_table(6, 16)
mask = table_mask(table, 6)
case("conv table", (6, 14, 14), f"c: conv(16, kernel: 5, table: {table_text(table)})",
     lambda x, p: F.conv2d(x, p["c.weight"] * mask, p["c.bias"]),
     {"c.weight": (16, 6, 5, 5), "c.bias": (16,)})

# Several tables in one library: each conv keeps its own (same-shaped
# tables, and tables of different shapes).
for name, widths in [("same shape", (3, 3, 3)), ("different shapes", (3, 6, 4))]:
    ta, tb = random_table(widths[0], widths[1]), random_table(widths[1], widths[2])
    ma, mb = table_mask(ta, widths[0]), table_mask(tb, widths[1])
    case(f"two conv tables, {name}", (widths[0], 5, 5),
         f"a: conv({widths[1]}, kernel: 1, table: {table_text(ta)}) "
         f"b: conv({widths[2]}, kernel: 3, pad: 1, table: {table_text(tb)})",
         lambda x, p, ma=ma, mb=mb: F.conv2d(F.conv2d(x, p["a.weight"] * ma, p["a.bias"]),
                                             p["b.weight"] * mb, p["b.bias"], padding=1),
         {"a.weight": (widths[1], widths[0], 1, 1), "a.bias": (widths[1],),
          "b.weight": (widths[2], widths[1], 3, 3), "b.bias": (widths[2],)})


# Batchnorm in training mode (batch statistics, running statistics updated
# in place with momentum 0.1) when gradients.py sets it.
TRAINING = False


def bn(x, p, prefix, eps):
    return F.batch_norm(x, p[prefix + ".running_mean"], p[prefix + ".running_var"],
                        p[prefix + ".weight"], p[prefix + ".bias"], TRAINING, 0.1, eps)


def bn_params(prefix, c):
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,)}


ACTIVATIONS = {
    "relu": (lambda x: F.relu(x)),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu(slope: 0.2)": (lambda x: F.leaky_relu(x, 0.2)),
    "relu6": F.relu6,
    "hardtanh(min_val: -0.5, max_val: 2)": (lambda x: F.hardtanh(x, -0.5, 2.0)),
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "silu": F.silu,
    "gelu": F.gelu,
    "gelu(approximate: tanh)": (lambda x: F.gelu(x, approximate="tanh")),
    "elu(alpha: 0.7)": (lambda x: F.elu(x, 0.7)),
}

# conv + batchnorm (folded into the filters) + each activation (fused).
for i, (act, act_fn) in enumerate(ACTIVATIONS.items()):
    cout = rng.choice([5, 16, 40, 70])
    body = f"c: conv({cout}, kernel: 3, pad: 1, bias: {'true' if i % 2 else 'false'}) " \
           f"n: batchnorm(eps: 0.001) {act}"
    params = {"c.weight": (cout, 4, 3, 3), **bn_params("n", cout)}
    if i % 2:
        params["c.bias"] = (cout,)
    case(f"conv+bn+{act}", (4, 9, 12), body,
         lambda x, p, act_fn=act_fn: act_fn(bn(F.conv2d(x, p["c.weight"], p.get("c.bias"),
                                                         padding=1), p, "n", 0.001)),
         params)

# Pooling with ceil mode, padding, dilation, count_include_pad.
for i in range(12):
    kind = ["maxpool", "avgpool", "l2pool"][i % 3]
    while True:
        k, s = rng.randint(1, 4), rng.randint(1, 3)
        h, w = rng.randint(3, 15), rng.randint(3, 15)
        ceil = rng.random() < 0.5
        p = 0 if kind == "l2pool" else rng.randint(0, k // 2)
        d = rng.choice([1, 2]) if kind == "maxpool" else 1
        if out_size(h, k, s, p, p, d, ceil) >= 1 and out_size(w, k, s, p, p, d, ceil) >= 1:
            break
    c = rng.choice([3, 16, 20])
    if kind == "maxpool":
        body = f"maxpool({k}, stride: {s}, pad: {p}, dilation: {d}, ceil: {str(ceil).lower()})"
        fwd = (lambda x, _, k=k, s=s, p=p, d=d, ceil=ceil:
               F.max_pool2d(x, k, s, p, d, ceil_mode=ceil))
    elif kind == "avgpool":
        cip = rng.random() < 0.5
        body = (f"avgpool({k}, stride: {s}, pad: {p}, ceil: {str(ceil).lower()}, "
                f"count_include_pad: {str(cip).lower()})")
        fwd = (lambda x, _, k=k, s=s, p=p, ceil=ceil, cip=cip:
               F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=cip))
    else:
        body = f"l2pool({k}, stride: {s}, ceil: {str(ceil).lower()})"
        fwd = (lambda x, _, k=k, s=s, ceil=ceil: F.lp_pool2d(x, 2, k, s, ceil_mode=ceil))
    case(f"{body}", (c, h, w), body, fwd, {})

case("global_avgpool", (24, 7, 5), "global_avgpool",
     lambda x, p: F.adaptive_avg_pool2d(x, 1), {})

# Adaptive pooling to sizes that divide the input, that do not (windows of
# two sizes, overlapping), that exceed it, and to 1x1. Its own generator, so
# that the cases above keep their draws.
adaptive_rng = random.Random(SEED + 1)
adaptive_sizes = [((16, 14, 14), (7, 7)), ((8, 9, 9), (7, 7)), ((5, 5, 7), (2, 3)),
                  ((3, 4, 3), (6, 5)), ((20, 6, 5), (1, 1))]
for i in range(4):
    h, w = adaptive_rng.randint(2, 15), adaptive_rng.randint(2, 15)
    adaptive_sizes.append(((adaptive_rng.choice([3, 16, 20]), h, w),
                           (adaptive_rng.randint(1, h + 2), adaptive_rng.randint(1, w + 2))))
for i, (shape, (oh, ow)) in enumerate(adaptive_sizes):
    kind = ["adaptive_avgpool", "adaptive_maxpool"][i % 2]
    size = str(oh) if oh == ow else pair(oh, ow)
    torch_pool = F.adaptive_avg_pool2d if kind == "adaptive_avgpool" else F.adaptive_max_pool2d
    case(f"{kind}({size}) of {shape[1]}x{shape[2]}", shape, f"{kind}({size})",
         lambda x, _, f=torch_pool, o=(oh, ow): f(x, o), {}, batch=1 + i % 3)

# dense reading a flattened C x H x W input, then dense on features.
case("flatten dense relu dense(no bias)", (5, 3, 4),
     "flatten f: dense(37) relu g: dense(10, bias: false)",
     lambda x, p: F.linear(F.relu(F.linear(torch.flatten(x, 1), p["f.weight"], p["f.bias"])),
                           p["g.weight"]),
     {"f.weight": (37, 60), "f.bias": (37,), "g.weight": (10, 37)}, batch=5)
case("flatten as output", (3, 4, 5), "flatten", lambda x, p: torch.flatten(x, 1), {})

# Layers that stand alone (after a pool, so nothing fuses them).
case("batchnorm relu (alone)", (20, 6, 6), "maxpool(2) n: batchnorm relu",
     lambda x, p: F.relu(bn(F.max_pool2d(x, 2), p, "n", 1e-5)), bn_params("n", 20))
for act, act_fn in ACTIVATIONS.items():
    case(f"{act} (alone)", (17, 5, 5), f"maxpool(1) {act}",
         lambda x, p, act_fn=act_fn: act_fn(x), {})
# A negative slope: y > 0 on both sides, so the gradient must read x.
case("conv+leaky_relu(slope: -0.3)", (4, 6, 6), "c: conv(6, kernel: 3, pad: 1) leaky_relu(-0.3)",
     lambda x, p: F.leaky_relu(F.conv2d(x, p["c.weight"], p["c.bias"], padding=1), -0.3),
     {"c.weight": (6, 4, 3, 3), "c.bias": (6,)})
case("lrn", (12, 5, 7), "lrn(size: 5, alpha: 0.0005, beta: 0.75, k: 2)",
     lambda x, p: F.local_response_norm(x, 5, 0.0005, 0.75, 2.0), {})
case("lrn even size", (7, 4, 4), "lrn(size: 4, alpha: 0.01, beta: 0.5, k: 1)",
     lambda x, p: F.local_response_norm(x, 4, 0.01, 0.5, 1.0), {})
case("softmax over channels", (9, 3, 4), "softmax", lambda x, p: F.softmax(x, 1), {})
case("dense softmax", (2, 3, 3), "flatten f: dense(21) softmax",
     lambda x, p: F.softmax(F.linear(torch.flatten(x, 1), p["f.weight"], p["f.bias"]), 1),
     {"f.weight": (21, 18), "f.bias": (21,)})
case("dropout (identity)", (3, 5, 5), "dropout(0.3) relu", lambda x, p: F.relu(x), {})

# Branches: concat of different widths, add with a fused relu.
case("concat", (6, 8, 8),
     "concat { { a: conv(5, kernel: 1) } { b: conv(19, kernel: 3, pad: 1) } { maxpool(3, stride: 1, pad: 1) } }",
     lambda x, p: torch.cat([F.conv2d(x, p["a.weight"], p["a.bias"]),
                             F.conv2d(x, p["b.weight"], p["b.bias"], padding=1),
                             F.max_pool2d(x, 3, 1, 1)], 1),
     {"a.weight": (5, 6, 1, 1), "a.bias": (5,), "b.weight": (19, 6, 3, 3), "b.bias": (19,)})
case("add relu", (16, 7, 7),
     "add { { a: conv(16, kernel: 3, pad: 1) } { } } relu",
     lambda x, p: F.relu(F.conv2d(x, p["a.weight"], p["a.bias"], padding=1) + x),
     {"a.weight": (16, 16, 3, 3), "a.bias": (16,)})



# Channel slicing and shuffling (ShuffleNet V2): torch.chunk's pieces, the
# last one smaller when the channels do not divide, and torchvision's
# channel_shuffle.
def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


case("chunk halves, shuffle", (6, 5, 4),
     "concat { { chunk(2, index: 0) } { chunk(2, index: 1) a: conv(3, kernel: 3, pad: 1) relu } } "
     "channel_shuffle(2)",
     lambda x, p: channel_shuffle(torch.cat(
         [x.chunk(2, 1)[0], F.relu(F.conv2d(x.chunk(2, 1)[1], p["a.weight"], p["a.bias"],
                                            padding=1))], 1), 2),
     {"a.weight": (3, 3, 3, 3), "a.bias": (3,)})
case("chunk uneven pieces, shuffle in 4 groups", (7, 3, 5),
     "concat { { chunk(3, index: 2) } { a: conv(4, kernel: 1) } { chunk(3, index: 0) } } "
     "channel_shuffle(4)",
     lambda x, p: channel_shuffle(torch.cat(
         [x.chunk(3, 1)[2], F.conv2d(x, p["a.weight"], p["a.bias"]), x.chunk(3, 1)[0]], 1), 4),
     {"a.weight": (4, 7, 1, 1), "a.bias": (4,)})

# Broadcasting merges: squeeze-and-excitation (a 1x1 branch scaling each
# channel), the 1x1 branch first, n-ary products with a repeated tensor,
# and add's broadcast.
case("mul squeeze-excitation", (16, 6, 5),
     "mul { {} { global_avgpool a: conv(4, kernel: 1) relu b: conv(16, kernel: 1) hardsigmoid } }",
     lambda x, p: x * F.hardsigmoid(F.conv2d(F.relu(F.conv2d(
         F.adaptive_avg_pool2d(x, 1), p["a.weight"], p["a.bias"])), p["b.weight"], p["b.bias"])),
     {"a.weight": (4, 16, 1, 1), "a.bias": (4,), "b.weight": (16, 4, 1, 1), "b.bias": (16,)})
# RegNetY's block: a grouped conv, batchnorm and relu, then
# squeeze-and-excitation with relu and sigmoid.
case("grouped conv, squeeze-excitation with sigmoid", (16, 7, 6),
     "b: conv(16, kernel: 3, stride: 2, pad: 1, groups: 4, bias: false) relu "
     "mul { {} { global_avgpool fc1: conv(4, kernel: 1) relu fc2: conv(16, kernel: 1) sigmoid } }",
     lambda x, p: (lambda y: y * torch.sigmoid(F.conv2d(F.relu(F.conv2d(
         F.adaptive_avg_pool2d(y, 1), p["fc1.weight"], p["fc1.bias"])), p["fc2.weight"],
         p["fc2.bias"])))(F.relu(F.conv2d(x, p["b.weight"], None, stride=2, padding=1, groups=4))),
     {"b.weight": (16, 4, 3, 3), "fc1.weight": (4, 16, 1, 1), "fc1.bias": (4,),
      "fc2.weight": (16, 4, 1, 1), "fc2.bias": (16,)})
case("mul 1x1 branch first, relu", (8, 5, 7),
     "mul { { global_avgpool } { a: conv(8, kernel: 3, pad: 1) } } relu",
     lambda x, p: F.relu(F.adaptive_avg_pool2d(x, 1) *
                         F.conv2d(x, p["a.weight"], p["a.bias"], padding=1)),
     {"a.weight": (8, 8, 3, 3), "a.bias": (8,)})
case("mul same shapes", (6, 5, 5),
     "mul { { a: conv(8, kernel: 1) } { b: conv(8, kernel: 3, pad: 1) tanh } }",
     lambda x, p: F.conv2d(x, p["a.weight"], p["a.bias"]) *
     torch.tanh(F.conv2d(x, p["b.weight"], p["b.bias"], padding=1)),
     {"a.weight": (8, 6, 1, 1), "a.bias": (8,), "b.weight": (8, 6, 3, 3), "b.bias": (8,)})
case("mul three branches", (5, 4, 6), "mul { {} {} { global_avgpool } }",
     lambda x, p: x * x * F.adaptive_avg_pool2d(x, 1), {})
case("add broadcast", (16, 7, 7),
     "add { {} { global_avgpool a: conv(16, kernel: 1) } } relu",
     lambda x, p: F.relu(x + F.conv2d(F.adaptive_avg_pool2d(x, 1), p["a.weight"], p["a.bias"])),
     {"a.weight": (16, 16, 1, 1), "a.bias": (16,)})

# scale: fused into the conv before it, and in a residual (Inception-ResNet's
# scaled shortcut sum).
case("scale after conv", (4, 5, 5), "c: conv(6, kernel: 3, pad: 1) scale(0.17)",
     lambda x, p: 0.17 * F.conv2d(x, p["c.weight"], p["c.bias"], padding=1),
     {"c.weight": (6, 4, 3, 3), "c.bias": (6,)})
case("scaled residual", (8, 6, 6), "add { {} { c: conv(8, kernel: 3, pad: 1) scale(-0.2) } } relu",
     lambda x, p: F.relu(x - 0.2 * F.conv2d(x, p["c.weight"], p["c.bias"], padding=1)),
     {"c.weight": (8, 8, 3, 3), "c.bias": (8,)})
case("stochastic depth (identity)", (4, 5, 5),
     "add { { c: conv(4, kernel: 3, pad: 1) stochastic_depth(0.25) } {} }",
     lambda x, p: F.conv2d(x, p["c.weight"], p["c.bias"], padding=1) + x,
     {"c.weight": (4, 4, 3, 3), "c.bias": (4,)})

# ConvNeXt's block: a depthwise 7x7 conv, layernorm over the channels of
# each pixel, two dense layers over channels with gelu between them (torch
# applies them to the channels-last tensor), a learned scale per channel and
# the residual sum. Then the same layers on flat features and prelu, one
# shared slope and one per channel.
def convnext_block(x, p):
    y = F.conv2d(x, p["dw.weight"], p["dw.bias"], padding=3, groups=8).permute(0, 2, 3, 1)
    y = F.layer_norm(y, (8,), p["ln.weight"], p["ln.bias"], 1e-6)
    y = F.linear(F.gelu(F.linear(y, p["pw1.weight"], p["pw1.bias"])), p["pw2.weight"],
                 p["pw2.bias"])
    return x + p["ls"] * y.permute(0, 3, 1, 2)


case("layernorm over channels, dense over channels, layer_scale", (8, 9, 7),
     "add { { dw: conv(8, kernel: 7, pad: 3, groups: 8) ln: layernorm(eps: 1e-6) "
     "pw1: dense(32, over: channels) gelu pw2: dense(8, over: channels) ls: layer_scale } {} }",
     convnext_block,
     {"dw.weight": (8, 1, 7, 7), "dw.bias": (8,), "ln.weight": (8,), "ln.bias": (8,),
      "pw1.weight": (32, 8), "pw1.bias": (32,), "pw2.weight": (8, 32), "pw2.bias": (8,),
      "ls": (8, 1, 1)})
case("layernorm, prelu, layer_scale on flat features", (3, 4, 5),
     "flatten ln: layernorm pr: prelu(60) ls: layer_scale a: dense(5) b: prelu",
     lambda x, p: F.prelu(F.linear(p["ls"] * F.prelu(F.layer_norm(
         x.flatten(1), (60,), p["ln.weight"], p["ln.bias"]), p["pr.weight"]), p["a.weight"],
         p["a.bias"]), p["b.weight"]),
     {"ln.weight": (60,), "ln.bias": (60,), "pr.weight": (60,), "ls": (60,), "a.weight": (5, 60),
      "a.bias": (5,), "b.weight": (1,)})
case("prelu shared and per channel, dense over channels without bias", (6, 5, 6),
     "a: conv(20, kernel: 3, pad: 1) p1: prelu p2: prelu(20, init: 0.1) "
     "d: dense(7, over: channels, bias: false) ln: layernorm",
     lambda x, p: F.layer_norm(F.linear(F.prelu(F.prelu(
         F.conv2d(x, p["a.weight"], p["a.bias"], padding=1), p["p1.weight"]), p["p2.weight"])
         .permute(0, 2, 3, 1), p["d.weight"]), (7,), p["ln.weight"], p["ln.bias"])
     .permute(0, 3, 1, 2),
     {"a.weight": (20, 6, 3, 3), "a.bias": (20,), "p1.weight": (1,), "p2.weight": (20,),
      "d.weight": (7, 20), "ln.weight": (7,), "ln.bias": (7,)})

# Size-generic functions (plan::sizeGeneric): one generated function serves
# the same step at several sizes, reading them at run time. Each of these
# networks runs batchnorm, silu, depthwise filters, squeeze-and-excitation,
# global pooling, add and the gradient sums at two sizes of one class.
def mbconv_pair(x, p):
    y = F.silu(bn(F.conv2d(x, p["a.weight"], p["a.bias"], padding=1), p, "an", 1e-5))
    y = F.conv2d(y, p["d1.weight"], p["d1.bias"], padding=1, groups=16)
    y = y * torch.sigmoid(F.conv2d(F.adaptive_avg_pool2d(y, 1), p["s1.weight"], p["s1.bias"]))
    y = F.silu(bn(F.conv2d(y, p["b.weight"], None, stride=2, padding=1), p, "bn", 1e-5))
    y = F.conv2d(y, p["d2.weight"], p["d2.bias"], padding=1, groups=40)
    return y * torch.sigmoid(F.conv2d(F.adaptive_avg_pool2d(y, 1), p["s2.weight"], p["s2.bias"]))


case("size-generic: two sizes of one function", (3, 11, 13),
     "a: conv(16, kernel: 3, pad: 1) an: batchnorm silu d1: conv(16, kernel: 3, pad: 1, groups: 16) "
     "mul { {} { global_avgpool s1: conv(16, kernel: 1) sigmoid } } "
     "b: conv(40, kernel: 3, stride: 2, pad: 1, bias: false) bn: batchnorm silu "
     "d2: conv(40, kernel: 3, pad: 1, groups: 40) "
     "mul { {} { global_avgpool s2: conv(40, kernel: 1) sigmoid } }",
     mbconv_pair,
     {"a.weight": (16, 3, 3, 3), "a.bias": (16,), **bn_params("an", 16), "d1.weight": (16, 1, 3, 3),
      "d1.bias": (16,), "s1.weight": (16, 16, 1, 1), "s1.bias": (16,), "b.weight": (40, 16, 3, 3),
      **bn_params("bn", 40), "d2.weight": (40, 1, 3, 3), "d2.bias": (40,),
      "s2.weight": (40, 40, 1, 1), "s2.bias": (40,)})
# Fewer channels than a vector, at two counts of one class (5 and 7).
case("size-generic: channels short of a vector", (5, 6, 7),
     "add { {} { a: conv(5, kernel: 3, pad: 1) } } b: conv(7, kernel: 3, stride: 2, pad: 1) "
     "add { {} { c: conv(7, kernel: 3, pad: 1) } }",
     lambda x, p: (lambda y: y + F.conv2d(y, p["c.weight"], p["c.bias"], padding=1))(
         F.conv2d(x + F.conv2d(x, p["a.weight"], p["a.bias"], padding=1), p["b.weight"],
                  p["b.bias"], stride=2, padding=1)),
     {"a.weight": (5, 5, 3, 3), "a.bias": (5,), "b.weight": (7, 5, 3, 3), "b.bias": (7,),
      "c.weight": (7, 7, 3, 3), "c.bias": (7,)})
case("size-generic: dense block concatenations", (16, 6, 6),
     "concat { {} { a: conv(4, kernel: 3, pad: 1) relu } } "
     "concat { {} { b: conv(4, kernel: 3, pad: 1) relu } } c: conv(6, kernel: 1)",
     lambda x, p: (lambda y: F.conv2d(
         torch.cat([y, F.relu(F.conv2d(y, p["b.weight"], p["b.bias"], padding=1))], 1),
         p["c.weight"], p["c.bias"]))(
         torch.cat([x, F.relu(F.conv2d(x, p["a.weight"], p["a.bias"], padding=1))], 1)),
     {"a.weight": (4, 16, 3, 3), "a.bias": (4,), "b.weight": (4, 20, 3, 3), "b.bias": (4,),
      "c.weight": (6, 24, 1, 1), "c.bias": (6,)})
# Concats written in place (the producers write into channel slices of the
# output): inception branches, a nested dense-block concat whose input is
# the first, then a concat of one tensor twice, which stays a copy.
case("concat in place: branches, nested, one tensor twice", (8, 6, 6),
     "s: conv(8, kernel: 1) relu "
     "concat { { a: conv(4, kernel: 1) } { b: conv(5, kernel: 3, pad: 1) relu } "
     "{ maxpool(3, stride: 1, pad: 1) } } "
     "concat { {} { d: conv(3, kernel: 3, pad: 1) } } concat { {} {} } e: conv(6, kernel: 1)",
     lambda x, p: (lambda y: (lambda c1: (lambda c2: F.conv2d(
         torch.cat([c2, c2], 1), p["e.weight"], p["e.bias"]))(
         torch.cat([c1, F.conv2d(c1, p["d.weight"], p["d.bias"], padding=1)], 1)))(
         torch.cat([F.conv2d(y, p["a.weight"], p["a.bias"]),
                    F.relu(F.conv2d(y, p["b.weight"], p["b.bias"], padding=1)),
                    F.max_pool2d(y, 3, 1, 1)], 1)))(
         F.relu(F.conv2d(x, p["s.weight"], p["s.bias"]))),
     {"s.weight": (8, 8, 1, 1), "s.bias": (8,), "a.weight": (4, 8, 1, 1), "a.bias": (4,),
      "b.weight": (5, 8, 3, 3), "b.bias": (5,), "d.weight": (3, 17, 3, 3), "d.bias": (3,),
      "e.weight": (6, 40, 1, 1), "e.bias": (6,)})
# Size-generic steps (an activation of its own, an add) writing their slices.
case("concat in place: size-generic steps write slices", (6, 5, 4),
     "concat { { a: conv(5, kernel: 1) } { tanh } { add { {} { b: conv(6, kernel: 1) } } } }",
     lambda x, p: torch.cat([F.conv2d(x, p["a.weight"], p["a.bias"]), torch.tanh(x),
                             x + F.conv2d(x, p["b.weight"], p["b.bias"])], 1),
     {"a.weight": (5, 6, 1, 1), "a.bias": (5,), "b.weight": (6, 6, 1, 1), "b.bias": (6,)})
# A tensor in two concats: the first writes it in place, the second copies
# it (and its other input) into a slice of the outer concat that holds both.
case("concat in place: one tensor in two concats", (5, 5, 5),
     "t: conv(4, kernel: 1) "
     "concat { { concat { {} { p: conv(2, kernel: 1) } } } "
     "{ concat { {} { q: conv(3, kernel: 3, pad: 1) } } } } e: conv(3, kernel: 1)",
     lambda x, p: (lambda t: F.conv2d(torch.cat([
         torch.cat([t, F.conv2d(t, p["p.weight"], p["p.bias"])], 1),
         torch.cat([t, F.conv2d(t, p["q.weight"], p["q.bias"], padding=1)], 1)], 1),
         p["e.weight"], p["e.bias"]))(F.conv2d(x, p["t.weight"], p["t.bias"])),
     {"t.weight": (4, 5, 1, 1), "t.bias": (4,), "p.weight": (2, 4, 1, 1), "p.bias": (2,),
      "q.weight": (3, 4, 3, 3), "q.bias": (3,), "e.weight": (3, 13, 1, 1), "e.bias": (3,)})
# Two convs of one function at 5 and 7 input channels (one class), with
# reflect padding: the input's channel count and strides are read at run time.
case("input-channel-generic: reflect convs at two channel counts", (5, 7, 7),
     "a: conv(6, kernel: 3, pad: 1, mode: reflect) concat { {} { b: conv(1, kernel: 1) } } "
     "c: conv(6, kernel: 3, pad: 1, mode: reflect)",
     lambda x, p: (lambda y: F.conv2d(F.pad(torch.cat([y, F.conv2d(y, p["b.weight"], p["b.bias"])],
                                                      1), (1, 1, 1, 1), mode="reflect"),
                                      p["c.weight"], p["c.bias"]))(
         F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), p["a.weight"], p["a.bias"])),
     {"a.weight": (6, 5, 3, 3), "a.bias": (6,), "b.weight": (1, 6, 1, 1), "b.bias": (1,),
      "c.weight": (6, 7, 3, 3), "c.bias": (6,)})

# CNNC_CASES=mul,add runs only the cases whose names contain one of the words
# (while working on an operator; the suite runs them all).
if os.environ.get("CNNC_CASES"):
    words = os.environ["CNNC_CASES"].split(",")
    cases[:] = [c for c in cases if any(w in c["name"] for w in words)]
# CNNC_CASES_PER_KIND=k keeps the first k cases of each kind (the name up to
# its colon, numbers left out: the 14 random convs are one kind): every
# operator still runs, in a fraction of the time (the OpenCL gradient checks
# on PoCL, docs/gpu.md).
if os.environ.get("CNNC_CASES_PER_KIND"):
    per_kind, seen = int(os.environ["CNNC_CASES_PER_KIND"]), {}
    kept = []
    for c in cases:
        kind = re.sub(r"\d+", "", c["name"].split(":")[0])
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= per_kind:
            kept.append(c)
    cases[:] = kept
