# The networks of the GPU checks (sourced by gpu-record.sh and gpu-checks.sh):
# conformance on every example kind that the GPU table names, and
# the benchmark's networks.
GPU_CHECK_NETWORKS=fashion_cnn,lenet5,resnet18,resnet50,vgg16,googlenet,mobilenet_v2
GPU_BENCH_NETWORKS=fashion_cnn,resnet18,mobilenet_v2,googlenet,resnet50,vgg16
GPU_BENCH_TILES=4x4,2x4 # register tiles timed besides the default (bench/gpu.py --tiles)
