# Every example network against its PyTorch definition: layer by layer output
# shapes and parameter counts (matched by PyTorch module name), total
# parameters and buffers, total MACs counted here from PyTorch's modules, and
# the network's output shapes. All reference numbers are computed at test
# time from torch, never pasted.
#
# RUN: %python %s %cnnc %examples
import json
import subprocess
import sys

import torch
import torch.nn as nn

sys.path.insert(0, __import__("os").path.dirname(__file__))
from torch_models import EXAMPLES, MaskedConv2d  # noqa: E402

cnnc, examples = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def torch_reference(model, shape):
    """Output shape, direct parameters and MACs of every module with
    parameters, from forward hooks on a batch of 2."""
    rows = {}

    def hook(name):
        def record(module, inputs, output):
            # A bare nn.Parameter of a module (ConvNeXt's CNBlock.layer_scale)
            # is a layer of its own in cnnc, named like the parameter; torch
            # gives no output to compare it with.
            params = 0
            for pname, p in module.named_parameters(recurse=False):
                if pname in ("weight", "bias"):
                    params += p.numel()
                else:
                    rows[f"{name}.{pname}"] = dict(shape=None, params=p.numel(), macs=0,
                                                   buffers=0)
            if not params:
                return
            macs = 0
            out_shape = list(output.shape[1:])
            # nn.Linear and nn.LayerNorm on a channels-last image (ConvNeXt
            # permutes around them): cnnc's dense over channels and layernorm
            # give the same numbers as C x H x W.
            if type(module) in (nn.Linear, nn.LayerNorm) and len(out_shape) == 3:
                out_shape = [out_shape[2], out_shape[0], out_shape[1]]
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                per_pixel = out_shape[1] * out_shape[2] * kh * kw
                if isinstance(module, MaskedConv2d):
                    connections = int(module.mask.sum())
                    macs = per_pixel * connections
                    params = connections * kh * kw + module.out_channels
                else:
                    macs = per_pixel * module.out_channels * (module.in_channels // module.groups)
            elif isinstance(module, nn.Linear):  # at every position of a channels-last image
                positions = 1
                for d in output.shape[1:-1]:
                    positions *= d
                macs = module.in_features * module.out_features * positions
            buffers = sum(b.numel() for n, b in module.named_buffers(recurse=False)
                          if n in ("running_mean", "running_var"))
            rows[name] = dict(shape=out_shape, params=params, macs=macs, buffers=buffers)
        return record

    for name, module in model.named_modules():
        if any(True for _ in module.parameters(recurse=False)):
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        outputs = model(torch.randn(2, *shape))
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    return rows, [list(o.shape[1:]) for o in outputs]


for file, network, build, shape in EXAMPLES:
    report = json.loads(subprocess.run(
        [cnnc, f"{examples}/{file}", "--network", network, "--report-format=json"],
        check=True, capture_output=True, text=True).stdout)
    model = build()
    # GoogLeNet and Inception V3 compute their auxiliary outputs only in
    # training mode.
    model.train(network in ("googlenet", "inception_v3"))
    rows, outputs = torch_reference(model, shape)
    layers = {l["name"]: l for l in report["layers"]}
    for name, ref in rows.items():
        ours = layers.get(name)
        check(ours is not None, f"{network}: no layer named {name}")
        if ours is None:
            continue
        check(ref["shape"] is None or ours["shape"] == ref["shape"],
              f"{network}/{name}: shape {ours['shape']} != torch {ref['shape']}")
        check(ours["params"] == ref["params"],
              f"{network}/{name}: params {ours['params']} != torch {ref['params']}")
        check(ours["buffers"] == ref["buffers"],
              f"{network}/{name}: buffers {ours['buffers']} != torch {ref['buffers']}")
        check(ours["macs"] == ref["macs"],
              f"{network}/{name}: MACs {ours['macs']} != torch {ref['macs']}")
    with_params = {l["name"] for l in report["layers"] if l["params"]}
    check(with_params <= set(rows), f"{network}: layers unknown to torch: "
          f"{sorted(with_params - set(rows))}")
    totals = report["totals"]
    check(totals["params"] == sum(r["params"] for r in rows.values()),
          f"{network}: total params {totals['params']}")
    check(totals["buffers"] == sum(r["buffers"] for r in rows.values()),
          f"{network}: total buffers {totals['buffers']}")
    check(totals["macs"] == sum(r["macs"] for r in rows.values()),
          f"{network}: total MACs {totals['macs']} != torch "
          f"{sum(r['macs'] for r in rows.values())}")
    ours_out = sorted(o["shape"] for o in report["outputs"])
    check(ours_out == sorted(outputs), f"{network}: outputs {ours_out} != torch {outputs}")
    print(f"{network}: {len(rows)} layers with parameters, "
          f"{totals['params']:,} parameters, {totals['macs']:,} MACs: match")

if failures:
    sys.exit(f"{len(failures)} mismatches")
