"""PyTorch definitions of exactly the variants in examples/, with the same
module names as cnnc gives the layers (torchvision's own where it has one).

A test dependency only: the reference that the conformance tests compare
cnnc's reports against.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision


class MaskedConv2d(nn.Conv2d):
    """A convolution whose output channel o reads only the input channels in
    table[o] (LeNet-5's C3): the dense weight is multiplied by a mask."""

    def __init__(self, in_channels, out_channels, kernel_size, table):
        super().__init__(in_channels, out_channels, kernel_size)
        mask = torch.zeros(out_channels, in_channels, 1, 1)
        for o, row in enumerate(table):
            for c in row:
                mask[o, c] = 1
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return nn.functional.conv2d(x, self.weight * self.mask, self.bias)


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, stride=1, padding=2)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 5, stride=1, padding=2)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(7 * 7 * 32, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2, 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2, 2)
        return self.fc1(torch.flatten(x, 1))


LENET5_C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5],
    [0, 1, 2, 5], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


class LeNet5(nn.Module):
    def __init__(self, table=None):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = MaskedConv2d(6, 16, 5, table) if table else nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = torch.tanh(self.c5(x))
        return self.out(torch.tanh(self.f6(torch.flatten(x, 1))))


def lrn_conv(cin, cout, k, stride=1, pad=0, groups=1):
    return nn.Sequential(OrderedDict(
        conv=nn.Conv2d(cin, cout, k, stride=stride, padding=pad, groups=groups),
        relu=nn.ReLU(),
        lrn=nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
        pool=nn.MaxPool2d(3, 2)))


class AlexNetLRN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = lrn_conv(3, 96, 11, stride=4)
        self.conv2 = lrn_conv(96, 256, 5, pad=2, groups=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.fc6 = nn.Linear(256 * 6 * 6, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, 1000)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        x = torch.relu(self.conv5(torch.relu(self.conv4(torch.relu(self.conv3(x))))))
        x = torch.flatten(nn.functional.max_pool2d(x, 3, 2), 1)
        x = nn.functional.dropout(torch.relu(self.fc6(x)), 0.5, self.training)
        x = nn.functional.dropout(torch.relu(self.fc7(x)), 0.5, self.training)
        return self.fc8(x)


def mlpconv(cin, cout, k, stride=1, pad=0):
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(cin, cout, k, stride=stride, padding=pad), relu1=nn.ReLU(),
        conv2=nn.Conv2d(cout, cout, 1), relu2=nn.ReLU(),
        conv3=nn.Conv2d(cout, cout, 1), relu3=nn.ReLU()))


class NiN(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlpconv1 = mlpconv(1, 96, 11, stride=4)
        self.mlpconv2 = mlpconv(96, 256, 5, pad=2)
        self.mlpconv3 = mlpconv(256, 384, 3, pad=1)
        self.mlpconv4 = mlpconv(384, 10, 3, pad=1)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.mlpconv1(x), 3, 2)
        x = nn.functional.max_pool2d(self.mlpconv2(x), 3, 2)
        x = nn.functional.max_pool2d(self.mlpconv3(x), 3, 2)
        x = self.mlpconv4(nn.functional.dropout(x, 0.5, self.training))
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)


def inception_v3():
    return torchvision.models.inception_v3(aux_logits=True, init_weights=False)


def googlenet():
    return torchvision.models.googlenet(aux_logits=True, init_weights=False,
                                        transform_input=False)


# (example file, network, builder, input shape CxHxW, output names in order)
EXAMPLES = [
    ("fashion_mnist.cnn", "fashion_cnn", FashionCNN, (1, 28, 28)),
    ("lenet5.cnn", "lenet5", LeNet5, (1, 32, 32)),
    ("lenet5.cnn", "lenet5_c3", lambda: LeNet5(LENET5_C3_TABLE), (1, 32, 32)),
    ("alexnet.cnn", "alexnet", torchvision.models.alexnet, (3, 224, 224)),
    ("alexnet.cnn", "alexnet_lrn", AlexNetLRN, (3, 227, 227)),
    ("vgg.cnn", "vgg11", torchvision.models.vgg11, (3, 224, 224)),
    ("vgg.cnn", "vgg11_bn", torchvision.models.vgg11_bn, (3, 224, 224)),
    ("vgg.cnn", "vgg16", torchvision.models.vgg16, (3, 224, 224)),
    ("vgg.cnn", "vgg16_bn", torchvision.models.vgg16_bn, (3, 224, 224)),
    ("nin.cnn", "nin", NiN, (1, 224, 224)),
    ("googlenet.cnn", "googlenet", googlenet, (3, 224, 224)),
    ("resnet.cnn", "resnet18", torchvision.models.resnet18, (3, 224, 224)),
    ("resnet.cnn", "resnet34", torchvision.models.resnet34, (3, 224, 224)),
    ("resnet.cnn", "resnet50", torchvision.models.resnet50, (3, 224, 224)),
    ("resnet.cnn", "resnet101", torchvision.models.resnet101, (3, 224, 224)),
    ("resnet.cnn", "resnet152", torchvision.models.resnet152, (3, 224, 224)),
    ("resnet.cnn", "resnext50_32x4d", torchvision.models.resnext50_32x4d, (3, 224, 224)),
    ("resnet.cnn", "resnext101_32x8d", torchvision.models.resnext101_32x8d, (3, 224, 224)),
    ("resnet.cnn", "wide_resnet50_2", torchvision.models.wide_resnet50_2, (3, 224, 224)),
    ("resnet.cnn", "wide_resnet101_2", torchvision.models.wide_resnet101_2, (3, 224, 224)),
    ("squeezenet.cnn", "squeezenet1_0", torchvision.models.squeezenet1_0, (3, 224, 224)),
    ("squeezenet.cnn", "squeezenet1_1", torchvision.models.squeezenet1_1, (3, 224, 224)),
    ("mobilenet.cnn", "mobilenet_v2", torchvision.models.mobilenet_v2, (3, 224, 224)),
    ("mobilenet_v3.cnn", "mobilenet_v3_large", torchvision.models.mobilenet_v3_large,
     (3, 224, 224)),
    ("mobilenet_v3.cnn", "mobilenet_v3_small", torchvision.models.mobilenet_v3_small,
     (3, 224, 224)),
    ("efficientnet.cnn", "efficientnet_b0", torchvision.models.efficientnet_b0, (3, 224, 224)),
    ("efficientnet.cnn", "efficientnet_b1", torchvision.models.efficientnet_b1, (3, 240, 240)),
    ("efficientnet.cnn", "efficientnet_b2", torchvision.models.efficientnet_b2, (3, 288, 288)),
    ("efficientnet.cnn", "efficientnet_b3", torchvision.models.efficientnet_b3, (3, 300, 300)),
    ("efficientnet.cnn", "efficientnet_b4", torchvision.models.efficientnet_b4, (3, 380, 380)),
    ("efficientnet.cnn", "efficientnet_b5", torchvision.models.efficientnet_b5, (3, 456, 456)),
    ("efficientnet.cnn", "efficientnet_b6", torchvision.models.efficientnet_b6, (3, 528, 528)),
    ("efficientnet.cnn", "efficientnet_b7", torchvision.models.efficientnet_b7, (3, 600, 600)),
    ("efficientnet.cnn", "efficientnet_v2_s", torchvision.models.efficientnet_v2_s,
     (3, 384, 384)),
    ("efficientnet.cnn", "efficientnet_v2_m", torchvision.models.efficientnet_v2_m,
     (3, 480, 480)),
    ("efficientnet.cnn", "efficientnet_v2_l", torchvision.models.efficientnet_v2_l,
     (3, 480, 480)),
    *[(f"{file}.cnn", name, getattr(torchvision.models, name), (3, 224, 224))
      for file, names in (
          ("densenet", ("densenet121", "densenet161", "densenet169", "densenet201")),
          ("mnasnet", ("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3")),
          ("shufflenet_v2", ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
                             "shufflenet_v2_x2_0")),
          ("regnet", ("regnet_y_400mf", "regnet_y_1_6gf", "regnet_y_8gf", "regnet_x_400mf",
                      "regnet_x_1_6gf", "regnet_x_8gf")),
          ("convnext", ("convnext_tiny", "convnext_small", "convnext_base")))
      for name in names],
    ("inception_v3.cnn", "inception_v3", inception_v3, (3, 299, 299)),
]


# The deepest and widest models run their numerical checks (networks.py,
# network_steps.py) at 112x112, where each costs a fourth of its 224x224 work
# and CI stays short; they pool globally, so the architecture is the same. A
# few others run at other sizes (below). cnnc compiles them for that size
# with --input-shape; their reports (examples.py) are checked at the file's
# 224x224.
REDUCED_INPUT = {network: (3, 112, 112) for network in (
    "resnet101", "resnet152", "resnext101_32x8d", "wide_resnet101_2")}
REDUCED_INPUT["efficientnet_v2_s"] = (3, 192, 192)  # half its 384x384
# RegNetY's squeeze-and-excitation after every 3x3 conv spreads the effect of
# a ReLU input that rounds to the other side of zero (network_steps.py's
# header) over whole blocks: at 224x224 one optimizer step's gradients came
# 5.2e-2 RMS from float64 (torch's float32: 9.7e-3), while every operator
# agrees to 2e-6 (op_cases.py: "grouped conv, squeeze-excitation with
# sigmoid"); at 112x112, 3.7e-3.
REDUCED_INPUT["regnet_y_400mf"] = (3, 112, 112)
# AlexNet and VGG-11-BN run off 224x224, where their adaptive average pool
# is not the identity: AlexNet's features end at 7x7 (at 256x256), pooled to
# 6x6 in overlapping windows; VGG's at 5x5 (at 160x160), spread to 7x7.
REDUCED_INPUT["alexnet"] = (3, 256, 256)
REDUCED_INPUT["vgg11_bn"] = (3, 160, 160)
# The larger variants of a family run at 224x224 (EfficientNet B4..B7), at
# 192x192 (V2-M and L, as V2-S; they pool globally) or at 112x112 (the
# widest: RegNetY's squeeze-and-excitation as above, ConvNeXt Small and
# Base, RegNetX-8GF), so that the whole zoo runs in CI (about 12 minutes of
# it on two cores, mostly compiling).
REDUCED_INPUT.update({network: (3, 224, 224) for network in (
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7")})
REDUCED_INPUT.update({network: (3, 192, 192) for network in (
    "efficientnet_v2_m", "efficientnet_v2_l")})
REDUCED_INPUT.update({network: (3, 112, 112) for network in (
    "regnet_y_1_6gf", "regnet_y_8gf", "regnet_x_8gf", "convnext_small", "convnext_base")})


def checked_input(network, shape):
    """The input shape the numerical checks use for `network`, and the cnnc
    arguments that compile it for that shape."""
    checked = REDUCED_INPUT.get(network, shape)
    if checked == shape:
        return shape, []
    return checked, ["--input-shape", "image=" + "x".join(str(d) for d in checked)]


def randomize_batchnorm(model):
    """Running statistics and scales away from their initial 0 / 1, so that
    a test sees whether they are used (conformance tests, in place)."""
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn_like(buf) * 0.1)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand_like(buf) + 0.5)
        for name, p in model.named_parameters():
            if name.endswith(".weight") and p.dim() == 1:  # batchnorm scale
                p.copy_(torch.rand_like(p) + 0.5)
    return model
