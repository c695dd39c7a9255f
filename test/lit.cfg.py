# lit configuration of cnnc's test suite.
#
# Substitutions: %cnnc, %cnnc-opt, %cnnrun, %python (the Debian python with torch),
# %examples (the examples folder). FileCheck and not come from LLVM 14.
import os
import lit.formats

config.name = "cnnc"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".cnn", ".mlir", ".test", ".py"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit", "CMakeLists.txt",
                   "torch_models.py", "cnnc_model.py", "op_cases.py", "fuzz", "make_idx.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.cnnc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.cnnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Conformance tests must not use more threads than the machine has.
config.environment["OMP_NUM_THREADS"] = "2"

config.substitutions.append(("%build", config.cnnc_obj_root))
config.substitutions.append(("%cnnrun", os.path.join(config.cnnc_tools_dir, "cnnrun")))
config.substitutions.append(("%cnnc-opt", os.path.join(config.cnnc_tools_dir, "cnnc-opt")))
config.substitutions.append(("%cnnc", os.path.join(config.cnnc_tools_dir, "cnnc")))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%examples", os.path.join(config.cnnc_src_root, "examples")))
config.substitutions.append(("%conformance",
                             os.path.join(config.cnnc_src_root, "test", "conformance")))

# Generated models: the Halide runtime object is cached per target in a
# directory of the build tree, not in the user's home.
config.environment["CNNC_CACHE_DIR"] = os.path.join(config.cnnc_obj_root, "cnnc-cache")

# GPU code without a GPU (docs/gpu.md): OpenCL through PoCL on the CPU, and
# the CUDA toolkit's ptxas for the PTX of CUDA models.
if os.path.exists("/etc/OpenCL/vendors/pocl.icd"):
    config.available_features.add("opencl")
    config.environment["HL_OCL_DEVICE_TYPE"] = "cpu"
import shutil
for ptxas in (shutil.which("ptxas"),
              os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas")):
    if ptxas and os.access(ptxas, os.X_OK):
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", ptxas))
        break
# A machine with an NVIDIA driver runs CUDA models (no-driver.test expects none).
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
config.substitutions.append(("%check-ptx", os.path.join(config.cnnc_src_root, "scripts",
                                                        "check-ptx")))
