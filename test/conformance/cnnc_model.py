"""Drive a cnnc-generated model.so from Python through its C interface
(ctypes), as an application would, and write safetensors files without the
safetensors package. Used by the conformance tests; PyTorch is the oracle."""
import ctypes
import json
import os
import struct
import subprocess
import sys

import numpy as np

CNNC_LOAD_STRICT = 0
CNNC_LOAD_ALLOW_MISSING = 1
CNNC_LOAD_ALLOW_EXTRA = 2
CNNC_ERROR_RELEASED = 9


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("rank", ctypes.c_int32),
                ("dims", ctypes.c_int64 * 4), ("flags", ctypes.c_int32)]


class Augmentation(ctypes.Structure):
    _fields_ = [("translate_x", ctypes.c_float), ("translate_y", ctypes.c_float),
                ("rotate", ctypes.c_float), ("shear", ctypes.c_float),
                ("scale_min", ctypes.c_float), ("scale_max", ctypes.c_float),
                ("flip", ctypes.c_int32)]


def augmentation(translate=(0, 0), rotate=0, shear=0, scale=(1, 1), flip=False):
    return Augmentation(translate[0], translate[1], rotate, shear, scale[0], scale[1], int(flip))


# The seed of training step t's random streams (cnnc.h).
def step_seed(seed, step):
    return (seed ^ (0x9e3779b97f4a7c15 * (step + 1))) & (2**64 - 1)


class Hyperparams(ctypes.Structure):
    _fields_ = [("optimizer", ctypes.c_int), ("learning_rate", ctypes.c_float),
                ("momentum", ctypes.c_float), ("dampening", ctypes.c_float),
                ("nesterov", ctypes.c_int32), ("weight_decay", ctypes.c_float),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("epsilon", ctypes.c_float), ("label_smoothing", ctypes.c_float),
                ("seed", ctypes.c_uint64), ("augmentation", ctypes.POINTER(Augmentation))]


class TrainResult(ctypes.Structure):
    _fields_ = [("loss", ctypes.c_float), ("correct", ctypes.c_int64)]


SGD, ADAM, ADAMW = 0, 1, 2


class Checks:
    """Counts failed checks; `done()` exits 1 if any failed."""

    def __init__(self):
        self.failures = 0
        self.checks = 0

    def report(self, ok, text):
        self.failures += not ok
        self.checks += 1
        print(f"{'ok  ' if ok else 'FAIL'} {text}", flush=True)

    def done(self):
        if self.failures:
            print(f"{self.failures} of {self.checks} checks failed")
        else:
            print(f"{self.checks} checks passed")
        sys.exit(1 if self.failures else 0)


class CnncError(Exception):
    def __init__(self, status, message):
        super().__init__(f"status {status}: {message}")
        self.status = status
        self.message = message


# CNNC_TEST_TARGET=opencl (or cuda, or any --target) compiles every model of
# a conformance test for that target: the GPU half runs the same cases
# (docs/gpu.md; OpenCL runs on the CPU through PoCL without a GPU).
TEST_TARGET = os.environ.get("CNNC_TEST_TARGET", "")


# Record and replay, for a machine with a GPU but without cnnc (docs/gpu.md):
# CNNC_RECORD=DIR keeps a copy of every library compiled and of every cnnc
# output read, named by a hash of the source and the arguments;
# CNNC_REPLAY=DIR takes them from there instead of running cnnc.
RECORD = os.environ.get("CNNC_RECORD", "")
REPLAY = os.environ.get("CNNC_REPLAY", "")


def _recording(source, args, suffix):
    """The file of DIR that records cnnc run on `source` with `args`."""
    import hashlib
    h = hashlib.sha256()
    with open(source, "rb") as f:
        h.update(f.read())
    h.update("\0".join(args).encode())
    # The GPU schedule's measuring knob (docs/gpu.md) changes the code too.
    h.update(os.environ.get("CNNC_GPU_TILE", "").encode())
    return h.hexdigest()[:24] + suffix


def cnnc_stdout(cnnc, source, args):
    """What `cnnc SOURCE ARGS` prints (recorded or replayed)."""
    name = _recording(source, list(args), ".txt")
    if REPLAY:
        with open(os.path.join(REPLAY, name)) as f:
            return f.read()
    out = subprocess.run([cnnc, source, *args], check=True, capture_output=True,
                         text=True).stdout
    if RECORD:
        os.makedirs(RECORD, exist_ok=True)
        with open(os.path.join(RECORD, name), "w") as f:
            f.write(out)
    return out


def compile_model(cnnc, source, out_so, network=None, extra=()):
    """Compiles a .cnn file to out_so; raises with cnnc's stderr on failure."""
    args = list(extra)
    if TEST_TARGET and not any(a.startswith("--target") for a in extra):
        args.append("--target=" + TEST_TARGET)
    if network:
        args += ["--network", network]
    name = _recording(source, args, ".so")
    if REPLAY:
        import shutil
        shutil.copyfile(os.path.join(REPLAY, name), out_so)
        return out_so
    cmd = [cnnc, source, "-o", out_so, *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr}")
    if RECORD:
        import shutil
        os.makedirs(RECORD, exist_ok=True)
        shutil.copyfile(out_so, os.path.join(RECORD, name))
    return out_so


def compile_text(cnnc, text, work, name, extra=()):
    """Writes `text` to work/name.cnn and compiles it to work/name.so."""
    source = os.path.join(work, name + ".cnn")
    with open(source, "w") as f:
        f.write(text)
    return compile_model(cnnc, source, os.path.join(work, name + ".so"), extra=extra)


class Model:
    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(os.path.abspath(path))
        lib.cnnc_create.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.cnnc_destroy.argtypes = [ctypes.c_void_p]
        lib.cnnc_last_error.argtypes = [ctypes.c_void_p]
        lib.cnnc_last_error.restype = ctypes.c_char_p
        lib.cnnc_load_weights.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]
        lib.cnnc_load_weights_from_memory.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                      ctypes.c_size_t, ctypes.c_uint32]
        lib.cnnc_save_weights.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.cnnc_init_params.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        lib.cnnc_init_params_with.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
        lib.cnnc_forward.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                     ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(ctypes.c_void_p)]
        lib.cnnc_get_param.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.c_size_t]
        lib.cnnc_set_param.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.c_size_t]
        for f in ("cnnc_input_info", "cnnc_output_info", "cnnc_param_info"):
            getattr(lib, f).argtypes = [ctypes.c_int32, ctypes.POINTER(TensorInfo)]
        lib.cnnc_model_name.restype = ctypes.c_char_p
        lib.cnnc_train_step.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p,
                                        ctypes.POINTER(Hyperparams), ctypes.POINTER(TrainResult)]
        lib.cnnc_default_hyperparams.argtypes = [ctypes.POINTER(Hyperparams)]
        lib.cnnc_get_grad.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                      ctypes.c_size_t]
        lib.cnnc_set_trainable.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
        lib.cnnc_param_trainable.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.cnnc_reinit_layer.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64,
                                          ctypes.c_int]
        lib.cnnc_save_checkpoint.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.cnnc_can_train.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.cnnc_declared_augmentation.argtypes = [ctypes.c_int32, ctypes.POINTER(Augmentation)]
        lib.cnnc_augmentation_maps.argtypes = [ctypes.POINTER(Augmentation), ctypes.c_int64,
                                               ctypes.c_int64, ctypes.c_int64, ctypes.c_uint64,
                                               ctypes.c_void_p]
        lib.cnnc_release_params.argtypes = [ctypes.c_void_p]
        lib.cnnc_augment.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64,
                                     ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        handle = ctypes.c_void_p()
        status = lib.cnnc_create(ctypes.byref(handle))
        if status:
            raise CnncError(status, lib.cnnc_last_error(None).decode())
        self.handle = handle

    def __del__(self):
        if getattr(self, "handle", None):
            self.lib.cnnc_destroy(self.handle)

    def _check(self, status):
        if status:
            raise CnncError(status, self.lib.cnnc_last_error(self.handle).decode())

    def _infos(self, count_fn, info_fn):
        out = []
        for i in range(getattr(self.lib, count_fn)()):
            t = TensorInfo()
            self._check(getattr(self.lib, info_fn)(i, ctypes.byref(t)))
            out.append((t.name.decode(), tuple(t.dims[:t.rank]), t.flags))
        return out

    def inputs(self):
        return self._infos("cnnc_num_inputs", "cnnc_input_info")

    def outputs(self):
        return self._infos("cnnc_num_outputs", "cnnc_output_info")

    def params(self):
        return self._infos("cnnc_num_params", "cnnc_param_info")

    def load(self, path, flags=CNNC_LOAD_STRICT):
        self._check(self.lib.cnnc_load_weights(self.handle, str(path).encode(), flags))

    def load_bytes(self, data, flags=CNNC_LOAD_STRICT):
        self._check(self.lib.cnnc_load_weights_from_memory(self.handle, data, len(data), flags))

    def save(self, path):
        self._check(self.lib.cnnc_save_weights(self.handle, str(path).encode()))

    def init(self, seed):
        self._check(self.lib.cnnc_init_params(self.handle, seed))

    def init_with(self, seed, scheme):
        """scheme: 0 PyTorch default, 1 Kaiming normal (fan_out), 2 Kaiming
        uniform (fan_in), 3 Xavier uniform, 4 Xavier normal."""
        self._check(self.lib.cnnc_init_params_with(self.handle, seed, scheme))

    def release_params(self):
        """Inference only from here on (cnnc_release_params)."""
        self._check(self.lib.cnnc_release_params(self.handle))

    def get(self, name, shape):
        a = np.zeros(shape, np.float32)
        self._check(self.lib.cnnc_get_param(self.handle, name.encode(), a.ctypes.data, a.size))
        return a

    def set(self, name, array):
        a = np.ascontiguousarray(array, dtype=np.float32)
        self._check(self.lib.cnnc_set_param(self.handle, name.encode(), a.ctypes.data, a.size))

    def forward(self, *inputs):
        ins = [np.ascontiguousarray(x, dtype=np.float32) for x in inputs]
        batch = ins[0].shape[0]
        outs = [np.zeros((batch, *dims), np.float32) for _, dims, _ in self.outputs()]
        in_ptrs = (ctypes.c_void_p * len(ins))(*[x.ctypes.data for x in ins])
        out_ptrs = (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])
        self._check(self.lib.cnnc_forward(self.handle, batch, in_ptrs, out_ptrs))
        return outs


    def runner(self, *inputs):
        """A zero-argument callable running forward on fixed buffers, with no
        per-call Python allocation (for benchmarks)."""
        ins = [np.ascontiguousarray(x, dtype=np.float32) for x in inputs]
        batch = ins[0].shape[0]
        outs = [np.zeros((batch, *dims), np.float32) for _, dims, _ in self.outputs()]
        in_ptrs = (ctypes.c_void_p * len(ins))(*[x.ctypes.data for x in ins])
        out_ptrs = (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])
        forward, handle = self.lib.cnnc_forward, self.handle

        def run():
            self._check(forward(handle, batch, in_ptrs, out_ptrs))
            return outs
        run.keep_alive = (ins, outs)
        return run

    def declared_augmentation(self, input=0):
        a = Augmentation()
        status = self.lib.cnnc_declared_augmentation(input, ctypes.byref(a))
        if status:
            raise CnncError(status, "no augmentation of input %d" % input)
        return a

    def augmentation_maps(self, aug, batch, height, width, seed):
        maps = np.zeros((batch, 6), np.float32)
        status = self.lib.cnnc_augmentation_maps(ctypes.byref(aug), batch, height, width, seed,
                                                 maps.ctypes.data)
        if status:
            raise CnncError(status, "cnnc_augmentation_maps failed")
        return maps

    def augment(self, images, maps, input=0):
        images = np.ascontiguousarray(images, dtype=np.float32)
        maps = np.ascontiguousarray(maps, dtype=np.float32)
        out = np.zeros_like(images)
        self._check(self.lib.cnnc_augment(self.handle, input, images.shape[0], images.ctypes.data,
                                          maps.ctypes.data, out.ctypes.data))
        return out

    def hyperparams(self, **fields):
        """PyTorch's defaults (cnnc_default_hyperparams) with `fields` set."""
        h = Hyperparams()
        self.lib.cnnc_default_hyperparams(ctypes.byref(h))
        for k, v in fields.items():
            if k == "augmentation":
                h._augmentation = v  # kept alive with the struct
                v = ctypes.pointer(v)
            setattr(h, k, v)
        return h

    def train_step(self, inputs, labels, hyper):
        """One training step; returns (loss, correct)."""
        ins = [np.ascontiguousarray(x, dtype=np.float32) for x in inputs]
        labels = np.ascontiguousarray(labels, dtype=np.int32)
        in_ptrs = (ctypes.c_void_p * len(ins))(*[x.ctypes.data for x in ins])
        result = TrainResult()
        self._check(self.lib.cnnc_train_step(self.handle, len(labels), in_ptrs,
                                              labels.ctypes.data, ctypes.byref(hyper),
                                              ctypes.byref(result)))
        return result.loss, result.correct

    def grad(self, name, shape):
        a = np.zeros(shape, np.float32)
        self._check(self.lib.cnnc_get_grad(self.handle, name.encode(), a.ctypes.data, a.size))
        return a

    def set_trainable(self, layer, trainable):
        self._check(self.lib.cnnc_set_trainable(self.handle, layer.encode(), int(trainable)))

    def trainable(self, name):
        return self.lib.cnnc_param_trainable(self.handle, name.encode())

    def reinit_layer(self, layer, seed, scheme=0):
        self._check(self.lib.cnnc_reinit_layer(self.handle, layer.encode(), seed, scheme))

    def save_checkpoint(self, path):
        self._check(self.lib.cnnc_save_checkpoint(self.handle, str(path).encode()))

    def can_train(self):
        reason = ctypes.c_char_p()
        ok = self.lib.cnnc_can_train(ctypes.byref(reason))
        return bool(ok), reason.value.decode() if reason.value else ""

    def set_threads(self, n):
        self.lib.cnnc_set_num_threads(n)


def safetensors_bytes(tensors, header_override=None):
    """tensors: name -> numpy array (float32 or int64)."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64",
                 np.dtype(np.float64): "F64"}[array.dtype]
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if header_override:
        header_override(header)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read_safetensors(path):
    """name -> numpy array (F32, F64, I64) of every tensor in a safetensors
    file, in header order (the metadata left out)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64, "I64": np.int64}[meta["dtype"]]
        tensors[name] = np.frombuffer(data[begin:end], dtype).reshape(meta["shape"]).copy()
    return tensors


def write_safetensors(path, tensors):
    with open(path, "wb") as f:
        f.write(safetensors_bytes(tensors))


def state_dict_arrays(module):
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def max_relative_error(ours, ref):
    """max |ours - ref| / max(|ref|), over the whole tensor."""
    scale = max(float(np.abs(ref).max()), 1e-6)
    return float(np.abs(ours - ref).max()) / scale
