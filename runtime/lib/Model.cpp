//===- Model.cpp - The C interface of a generated model -------------------===//
//
// Implements cnnc.h over the descriptor that cnnc generates for each model
// (ModelDescriptor.h). Linked whole into every model.so; no LLVM, no MLIR,
// no Halide compiler: only the Halide runtime's buffer type and its error
// hook. Activations live in slots reused by liveness (a slot holds a tensor
// from the step that writes it to the last step that reads it), sized per
// sample and grown when a call brings a larger batch.
//
//===----------------------------------------------------------------------===//
#define CNNC_BUILDING_RUNTIME 1
#include "cnnc/runtime/ModelDescriptor.h"
#include "cnnc/runtime/Random.h"
#include "cnnc/runtime/Safetensors.h"
#include "cnnc/runtime/cnnc.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

const cnnc_model_desc &desc() { return cnnc_model_descriptor; }

/// Messages of halide_error() for the pipeline call on this thread.
thread_local std::string halideMessage;

/// Why the last cnnc_create on this thread failed.
thread_local std::string createError;

void captureHalideError(void *, const char *message) { halideMessage += message; }

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using FloatArray = std::unique_ptr<float[], FreeDeleter>;

FloatArray allocate(size_t count) {
  void *p = nullptr;
  if (posix_memalign(&p, 64, std::max<size_t>(count, 1) * sizeof(float)) != 0)
    return nullptr;
  return FloatArray(static_cast<float *>(p));
}

int64_t paramElements(const cnnc_param_desc &p) {
  int64_t n = 1;
  for (int i = 0; i < p.rank; ++i)
    n *= p.shape[i];
  return n;
}

int64_t derivedElements(const cnnc_derived_desc &d) {
  int64_t n = 1;
  for (int i = 0; i < d.rank; ++i)
    n *= d.dims[i];
  return n;
}

int64_t tensorElements(const cnnc_tensor_desc &t) { return t.c * t.h * t.w; }

class Failure {
public:
  Failure(cnnc_status status, std::string message) : status(status), message(std::move(message)) {}
  cnnc_status status;
  std::string message;
};

/// A dense Halide buffer over `host` with `dims` (innermost first).
struct HalideBuffer {
  halide_buffer_t buffer{};
  halide_dimension_t dim[4]{};

  HalideBuffer(float *host, const int64_t *dims, int rank) {
    int64_t stride = 1;
    for (int i = 0; i < rank; ++i) {
      dim[i].min = 0;
      dim[i].extent = static_cast<int32_t>(dims[i]);
      dim[i].stride = static_cast<int32_t>(stride);
      stride *= dims[i];
    }
    buffer.host = reinterpret_cast<uint8_t *>(host);
    buffer.type.code = halide_type_float;
    buffer.type.bits = 32;
    buffer.type.lanes = 1;
    buffer.dimensions = rank;
    buffer.dim = dim;
  }
};

} // namespace

struct cnnc_model {
  std::vector<std::vector<float>> params;
  std::vector<FloatArray> derived;
  std::map<std::string, int64_t> batchesTracked; ///< batchnorm prefix -> count
  bool prepared = false;

  // Liveness slots: tensor -> slot, slot -> per-sample size and storage.
  std::vector<int> slotOf;
  std::vector<int64_t> slotElements;
  std::vector<FloatArray> slots;
  int64_t capacity = 0; ///< batch size the slots hold

  std::string error;

  /// CNNC_PROFILE=1 in the environment: seconds per forward step, printed
  /// to stderr when the context is destroyed (docs/runtime-api.md).
  bool profiling = false;
  std::vector<double> stepSeconds;
  int64_t profiledCalls = 0;

  ~cnnc_model() {
    if (!profiling || profiledCalls == 0)
      return;
    const cnnc_model_desc &d = desc();
    double total = 0;
    for (double t : stepSeconds)
      total += t;
    std::fprintf(stderr, "cnnc profile of %s: %lld forward calls, %.3f ms per call\n", d.name,
                 static_cast<long long>(profiledCalls), 1e3 * total / profiledCalls);
    for (int s = 0; s < d.num_steps; ++s)
      std::fprintf(stderr, "  %8.3f ms %5.1f %%  %s  [%s]\n", 1e3 * stepSeconds[s] / profiledCalls,
                   100 * stepSeconds[s] / total, d.steps[s].function, d.steps[s].layers);
  }

  cnnc_model() {
    const char *profile = std::getenv("CNNC_PROFILE");
    profiling = profile && *profile && *profile != '0';
    stepSeconds.assign(desc().num_steps, 0.0);
    const cnnc_model_desc &d = desc();
    params.resize(d.num_params);
    for (int i = 0; i < d.num_params; ++i)
      params[i].assign(paramElements(d.params[i]), 0.0f);
    for (int i = 0; i < d.num_derived; ++i) {
      derived.push_back(allocate(derivedElements(d.derived[i])));
      if (!derived.back())
        throw std::bad_alloc();
    }
    for (int i = 0; i < d.num_params; ++i) {
      std::string name = d.params[i].name;
      const std::string suffix = ".running_mean";
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        batchesTracked[name.substr(0, name.size() - suffix.size())] = 0;
    }
    assignSlots();
  }

  int paramIndex(const std::string &name) const {
    for (int i = 0; i < desc().num_params; ++i)
      if (name == desc().params[i].name)
        return i;
    return -1;
  }

  /// The parameter `name`, checked against a caller's buffer of `count`.
  std::vector<float> &param(const char *name, bool haveBuffer, size_t count) {
    int i = name ? paramIndex(name) : -1;
    if (i < 0)
      throw Failure(CNNC_ERROR_MISSING,
                    std::string("no parameter named '") + (name ? name : "(null)") + "'");
    if (!haveBuffer || count != params[i].size())
      throw Failure(CNNC_ERROR_SHAPE, std::string("parameter '") + name + "' has " +
                                          std::to_string(params[i].size()) +
                                          " elements, the buffer " + std::to_string(count));
    return params[i];
  }

  void assignSlots() {
    const cnnc_model_desc &d = desc();
    std::vector<int> lastUse(d.num_tensors, -1);
    for (int s = 0; s < d.num_steps; ++s)
      for (int a = 0; a < d.steps[s].num_inputs; ++a)
        if (d.steps[s].args[a].kind == CNNC_ARG_TENSOR)
          lastUse[d.steps[s].args[a].index] = s;
    for (int o = 0; o < d.num_outputs; ++o)
      lastUse[d.outputs[o].tensor] = d.num_steps;
    slotOf.assign(d.num_tensors, -1);
    std::vector<bool> busy;
    auto take = [&](int t) {
      int64_t need = tensorElements(d.tensors[t]);
      int best = -1;
      for (size_t s = 0; s < busy.size(); ++s)
        if (!busy[s] && (best < 0 || std::llabs(slotElements[s] - need) <
                                         std::llabs(slotElements[best] - need)))
          best = static_cast<int>(s);
      if (best < 0) {
        best = static_cast<int>(busy.size());
        busy.push_back(false);
        slotElements.push_back(0);
      }
      busy[best] = true;
      slotElements[best] = std::max(slotElements[best], need);
      slotOf[t] = best;
    };
    for (int i = 0; i < d.num_inputs; ++i)
      take(d.inputs[i].tensor);
    for (int s = 0; s < d.num_steps; ++s) {
      const cnnc_step_desc &step = d.steps[s];
      for (int a = step.num_inputs; a < step.num_inputs + step.num_outputs; ++a)
        take(step.args[a].index);
      for (int a = 0; a < step.num_inputs; ++a) {
        const cnnc_arg_desc &arg = step.args[a];
        if (arg.kind == CNNC_ARG_TENSOR && lastUse[arg.index] == s)
          busy[slotOf[arg.index]] = false;
      }
    }
    slots.resize(slotElements.size());
  }

  void reserve(int64_t batch) {
    if (batch <= capacity)
      return;
    for (size_t s = 0; s < slots.size(); ++s) {
      slots[s] = allocate(static_cast<size_t>(slotElements[s] * batch));
      if (!slots[s]) {
        capacity = 0;
        throw Failure(CNNC_ERROR_MEMORY,
                      "cannot allocate activations for batch " + std::to_string(batch));
      }
    }
    capacity = batch;
  }

  float *tensorData(int t) { return slots[slotOf[t]].get(); }

  /// Floats per sample of the largest activation slot.
  int64_t largestSample() const {
    int64_t largest = 1;
    for (int64_t e : slotElements)
      largest = std::max(largest, e);
    return largest;
  }

  void runSteps(const cnnc_step_desc *steps, int count, int64_t batch) {
    const cnnc_model_desc &d = desc();
    for (int s = 0; s < count; ++s) {
      const cnnc_step_desc &step = steps[s];
      std::vector<HalideBuffer> buffers;
      buffers.reserve(step.num_inputs + step.num_outputs);
      for (int a = 0; a < step.num_inputs + step.num_outputs; ++a) {
        const cnnc_arg_desc &arg = step.args[a];
        switch (arg.kind) {
        case CNNC_ARG_TENSOR: {
          const cnnc_tensor_desc &t = d.tensors[arg.index];
          int64_t dims[4] = {t.c, t.w, t.h, batch};
          buffers.emplace_back(tensorData(arg.index), dims, 4);
          break;
        }
        case CNNC_ARG_PARAM: {
          const cnnc_param_desc &p = d.params[arg.index];
          int64_t dims[4];
          for (int i = 0; i < p.rank; ++i)
            dims[i] = p.shape[p.rank - 1 - i];
          buffers.emplace_back(params[arg.index].data(), dims, p.rank);
          break;
        }
        default: {
          const cnnc_derived_desc &dd = d.derived[arg.index];
          buffers.emplace_back(derived[arg.index].get(), dd.dims, dd.rank);
          break;
        }
        }
      }
      std::vector<void *> argv;
      for (HalideBuffer &b : buffers) {
        b.buffer.dim = b.dim; // the vector may have moved them
        argv.push_back(&b.buffer);
      }
      halideMessage.clear();
      auto start = std::chrono::steady_clock::now();
      int rc = step.fn(argv.data());
      if (profiling && steps == desc().steps)
        stepSeconds[s] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (rc != 0)
        throw Failure(CNNC_ERROR_RUNTIME, std::string("step ") + step.function + " (" +
                                              step.layers + ") failed: " + halideMessage);
    }
  }

  void prepare() {
    if (prepared)
      return;
    runSteps(desc().prepare, desc().num_prepare, 1);
    prepared = true;
  }
};

namespace {

/// Runs `body`, turning failures into a status and the context's message.
template <typename F> cnnc_status guarded(cnnc_model *m, F &&body) {
  if (!m)
    return CNNC_ERROR_ARGUMENT;
  m->error.clear();
  try {
    body();
    return CNNC_OK;
  } catch (const Failure &f) {
    m->error = f.message;
    return f.status;
  } catch (const std::bad_alloc &) {
    m->error = "out of memory";
    return CNNC_ERROR_MEMORY;
  } catch (const std::exception &e) {
    m->error = e.what();
    return CNNC_ERROR_RUNTIME;
  }
}

void fillInfo(cnnc_tensor_info *info, const char *name, int rank, const int64_t *dims, int flags) {
  info->name = name;
  info->rank = rank;
  for (int i = 0; i < 4; ++i)
    info->dims[i] = i < rank ? dims[i] : 0;
  info->flags = flags;
}

void ioInfo(const cnnc_io_desc &io, cnnc_tensor_info *info) {
  int64_t dims[3] = {io.c, io.h, io.w};
  fillInfo(info, io.name, io.rank - 1, dims, 0);
}

std::string shapeText(const int64_t *dims, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// Transposes each of `n` row-major `rows` x `cols` matrices. NCHW (caller)
/// to channels-innermost (slots) is (C, HW) -> (HW, C), and back is
/// (HW, C) -> (C, HW); flat tensors (one row or column) are copied.
void transposeEach(const float *src, float *dst, int64_t n, int64_t rows, int64_t cols) {
  if (rows == 1 || cols == 1) {
    std::memcpy(dst, src, sizeof(float) * n * rows * cols);
    return;
  }
  for (int64_t b = 0; b < n; ++b, src += rows * cols, dst += rows * cols)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        dst[c * rows + r] = src[r * cols + c];
}

/// Fans of a conv or dense weight, as torch.nn.init computes them.
void fans(const cnnc_param_desc &p, double &fanIn, double &fanOut) {
  double receptive = 1;
  for (int i = 2; i < p.rank; ++i)
    receptive *= static_cast<double>(p.shape[i]);
  fanIn = static_cast<double>(p.rank > 1 ? p.shape[1] : 1) * receptive;
  fanOut = static_cast<double>(p.shape[0]) * receptive;
}

void initParams(cnnc_model *m, uint64_t seed, cnnc_init_scheme scheme) {
  const cnnc_model_desc &d = desc();
  if (scheme < CNNC_INIT_PYTORCH_DEFAULT || scheme > CNNC_INIT_XAVIER_NORMAL)
    throw Failure(CNNC_ERROR_ARGUMENT,
                  "unknown initialization scheme " + std::to_string(static_cast<int>(scheme)));
  for (int i = 0; i < d.num_params; ++i) {
    const cnnc_param_desc &p = d.params[i];
    std::vector<float> &v = m->params[i];
    cnnc::rt::Random rng(seed, p.name);
    double fanIn, fanOut;
    fans(p, fanIn, fanOut);
    bool weight = p.init == CNNC_INIT_WEIGHT, bias = p.init == CNNC_INIT_BIAS;
    bool normal = false;
    float scale = 0; // the bound of a uniform, or the std of a normal
    if (scheme == CNNC_INIT_PYTORCH_DEFAULT && (weight || bias)) {
      scale = 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(p.fan_in, 1)));
    } else if (weight) {
      switch (scheme) {
      case CNNC_INIT_KAIMING_NORMAL:
        normal = true;
        scale = static_cast<float>(std::sqrt(2.0 / fanOut));
        break;
      case CNNC_INIT_KAIMING_UNIFORM:
        scale = static_cast<float>(std::sqrt(6.0 / fanIn));
        break;
      case CNNC_INIT_XAVIER_UNIFORM:
        scale = static_cast<float>(std::sqrt(6.0 / (fanIn + fanOut)));
        break;
      default:
        normal = true;
        scale = static_cast<float>(std::sqrt(2.0 / (fanIn + fanOut)));
        break;
      }
    }
    for (float &x : v) {
      if (weight || bias)
        x = normal ? scale * rng.normal() : rng.uniform(-scale, scale);
      else
        x = p.init == CNNC_INIT_ONES ? 1.0f : 0.0f;
    }
  }
  for (auto &entry : m->batchesTracked)
    entry.second = 0;
  m->prepared = false;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void loadWeights(cnnc_model *m, const uint8_t *bytes, size_t size, uint32_t flags,
                 const std::string &source) {
  const cnnc_model_desc &d = desc();
  cnnc::rt::SafetensorsFile file;
  std::string error;
  if (!cnnc::rt::parseSafetensors(bytes, size, file, error))
    throw Failure(CNNC_ERROR_FORMAT, source + ": " + error);
  // Validate everything first; the context changes only if all is well.
  std::vector<const cnnc::rt::SafetensorsEntry *> staged(d.num_params, nullptr);
  std::map<std::string, int64_t> tracked;
  for (const cnnc::rt::SafetensorsEntry &e : file.entries) {
    int index = m->paramIndex(e.name);
    if (index < 0) {
      const std::string suffix = ".num_batches_tracked";
      if (endsWith(e.name, suffix)) {
        std::string prefix = e.name.substr(0, e.name.size() - suffix.size());
        if (m->batchesTracked.count(prefix)) {
          if (e.dtype != "I64" || e.bytes != 8)
            throw Failure(CNNC_ERROR_FORMAT,
                          source + ": tensor '" + e.name + "' must be one I64 value");
          int64_t value;
          std::memcpy(&value, e.data, 8);
          tracked[prefix] = value;
          continue;
        }
      }
      if (flags & CNNC_LOAD_ALLOW_EXTRA)
        continue;
      throw Failure(CNNC_ERROR_UNEXPECTED,
                    source + ": tensor '" + e.name + "' is not a parameter of " + d.name);
    }
    const cnnc_param_desc &p = d.params[index];
    if (e.dtype != "F32")
      throw Failure(CNNC_ERROR_FORMAT,
                    source + ": tensor '" + e.name + "' has dtype " + e.dtype + ", expected F32");
    bool same = static_cast<int>(e.shape.size()) == p.rank;
    for (int i = 0; same && i < p.rank; ++i)
      same = e.shape[i] == p.shape[i];
    if (!same)
      throw Failure(CNNC_ERROR_SHAPE, source + ": tensor '" + e.name + "' has shape " +
                                          shapeText(e.shape.data(), (int)e.shape.size()) +
                                          ", expected " + shapeText(p.shape, p.rank));
    staged[index] = &e;
  }
  if (!(flags & CNNC_LOAD_ALLOW_MISSING))
    for (int i = 0; i < d.num_params; ++i)
      if (!staged[i])
        throw Failure(CNNC_ERROR_MISSING,
                      source + ": parameter '" + std::string(d.params[i].name) + "' is missing");
  for (int i = 0; i < d.num_params; ++i)
    if (staged[i])
      std::memcpy(m->params[i].data(), staged[i]->data, staged[i]->bytes);
  for (auto &entry : tracked)
    m->batchesTracked[entry.first] = entry.second;
  m->prepared = false;
}

std::vector<uint8_t> weightsFile(cnnc_model *m) {
  const cnnc_model_desc &d = desc();
  std::vector<cnnc::rt::TensorToWrite> tensors;
  for (int i = 0; i < d.num_params; ++i) {
    const cnnc_param_desc &p = d.params[i];
    tensors.push_back({p.name, "F32", std::vector<int64_t>(p.shape, p.shape + p.rank),
                       m->params[i].data(), m->params[i].size() * sizeof(float)});
  }
  for (auto &entry : m->batchesTracked)
    tensors.push_back({entry.first + ".num_batches_tracked", "I64", {}, &entry.second, 8});
  return cnnc::rt::serializeSafetensors(tensors, {{"format", "pt"}, {"model", d.name}});
}

} // namespace

extern "C" {

const char *cnnc_status_string(cnnc_status status) {
  switch (status) {
  case CNNC_OK:
    return "ok";
  case CNNC_ERROR_ARGUMENT:
    return "invalid argument";
  case CNNC_ERROR_SHAPE:
    return "shape mismatch";
  case CNNC_ERROR_IO:
    return "i/o error";
  case CNNC_ERROR_FORMAT:
    return "malformed file";
  case CNNC_ERROR_MISSING:
    return "missing tensor";
  case CNNC_ERROR_UNEXPECTED:
    return "unexpected tensor";
  case CNNC_ERROR_MEMORY:
    return "out of memory";
  case CNNC_ERROR_RUNTIME:
    return "runtime error";
  }
  return "unknown status";
}

const char *cnnc_model_name(void) { return desc().name; }
const char *cnnc_model_target(void) { return desc().target; }
int32_t cnnc_num_inputs(void) { return desc().num_inputs; }
int32_t cnnc_num_outputs(void) { return desc().num_outputs; }
int32_t cnnc_num_params(void) { return desc().num_params; }

cnnc_status cnnc_input_info(int32_t index, cnnc_tensor_info *info) {
  if (!info || index < 0 || index >= desc().num_inputs)
    return CNNC_ERROR_ARGUMENT;
  ioInfo(desc().inputs[index], info);
  return CNNC_OK;
}

cnnc_status cnnc_output_info(int32_t index, cnnc_tensor_info *info) {
  if (!info || index < 0 || index >= desc().num_outputs)
    return CNNC_ERROR_ARGUMENT;
  ioInfo(desc().outputs[index], info);
  return CNNC_OK;
}

cnnc_status cnnc_param_info(int32_t index, cnnc_tensor_info *info) {
  if (!info || index < 0 || index >= desc().num_params)
    return CNNC_ERROR_ARGUMENT;
  const cnnc_param_desc &p = desc().params[index];
  fillInfo(info, p.name, p.rank, p.shape, p.flags);
  return CNNC_OK;
}

cnnc_status cnnc_create(cnnc_model **model) {
  if (!model)
    return CNNC_ERROR_ARGUMENT;
  *model = nullptr;
  createError.clear();
  halide_set_error_handler(captureHalideError);
  cnnc_model *m = nullptr;
  try {
    m = new cnnc_model;
  } catch (const std::bad_alloc &) {
    createError = "out of memory";
    return CNNC_ERROR_MEMORY;
  }
  initParams(m, 0, CNNC_INIT_PYTORCH_DEFAULT);
  if (desc().embedded_weights) {
    cnnc_status s = guarded(m, [&] {
      loadWeights(m, desc().embedded_weights, desc().embedded_weights_size, CNNC_LOAD_STRICT,
                  "embedded weights");
    });
    if (s != CNNC_OK) {
      createError = m->error;
      delete m;
      return s;
    }
  }
  *model = m;
  return CNNC_OK;
}

void cnnc_destroy(cnnc_model *model) { delete model; }

const char *cnnc_last_error(const cnnc_model *model) {
  return model ? model->error.c_str() : createError.c_str();
}

cnnc_status cnnc_init_params(cnnc_model *model, uint64_t seed) {
  return guarded(model, [&] { initParams(model, seed, CNNC_INIT_PYTORCH_DEFAULT); });
}

cnnc_status cnnc_init_params_with(cnnc_model *model, uint64_t seed, cnnc_init_scheme scheme) {
  return guarded(model, [&] { initParams(model, seed, scheme); });
}

cnnc_status cnnc_load_weights(cnnc_model *model, const char *path, uint32_t flags) {
  return guarded(model, [&] {
    if (!path)
      throw Failure(CNNC_ERROR_ARGUMENT, "path is null");
    std::vector<uint8_t> bytes;
    std::string error;
    if (!cnnc::rt::readFile(path, bytes, error))
      throw Failure(CNNC_ERROR_IO, error);
    loadWeights(model, bytes.data(), bytes.size(), flags, path);
  });
}

cnnc_status cnnc_load_weights_from_memory(cnnc_model *model, const void *data, size_t size,
                                          uint32_t flags) {
  return guarded(model, [&] {
    if (!data)
      throw Failure(CNNC_ERROR_ARGUMENT, "data is null");
    loadWeights(model, static_cast<const uint8_t *>(data), size, flags, "weights in memory");
  });
}

cnnc_status cnnc_save_weights(cnnc_model *model, const char *path) {
  return guarded(model, [&] {
    if (!path)
      throw Failure(CNNC_ERROR_ARGUMENT, "path is null");
    std::string error;
    if (!cnnc::rt::writeFileAtomically(path, weightsFile(model), error))
      throw Failure(CNNC_ERROR_IO, error);
  });
}

cnnc_status cnnc_get_param(cnnc_model *model, const char *name, float *data, size_t count) {
  return guarded(model, [&] {
    std::vector<float> &p = model->param(name, data != nullptr, count);
    std::memcpy(data, p.data(), count * sizeof(float));
  });
}

cnnc_status cnnc_set_param(cnnc_model *model, const char *name, const float *data, size_t count) {
  return guarded(model, [&] {
    std::vector<float> &p = model->param(name, data != nullptr, count);
    std::memcpy(p.data(), data, count * sizeof(float));
    model->prepared = false;
  });
}

cnnc_status cnnc_forward(cnnc_model *model, int64_t batch, const float *const *inputs,
                         float *const *outputs) {
  return guarded(model, [&] {
    const cnnc_model_desc &d = desc();
    if (batch < 1 || batch > (int64_t(1) << 30))
      throw Failure(CNNC_ERROR_ARGUMENT,
                    "batch size " + std::to_string(batch) + " is not in [1, 2^30]");
    if (!inputs || !outputs)
      throw Failure(CNNC_ERROR_ARGUMENT, "inputs or outputs is null");
    for (int i = 0; i < d.num_inputs; ++i)
      if (!inputs[i])
        throw Failure(CNNC_ERROR_ARGUMENT, std::string("input '") + d.inputs[i].name + "' is null");
    for (int i = 0; i < d.num_outputs; ++i)
      if (!outputs[i])
        throw Failure(CNNC_ERROR_ARGUMENT,
                      std::string("output '") + d.outputs[i].name + "' is null");
    model->prepare();
    // Halide buffers hold at most 2^31 - 1 bytes: large batches run in chunks
    // whose largest tensor (and the padded copies the pipelines make of it)
    // stays within 1 GiB.
    int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 28) / model->largestSample());
    for (int64_t start = 0; start < batch; start += chunk) {
      int64_t n = std::min(chunk, batch - start);
      model->reserve(n);
      for (int i = 0; i < d.num_inputs; ++i) {
        const cnnc_io_desc &io = d.inputs[i];
        int64_t size = io.c * io.h * io.w;
        transposeEach(inputs[i] + start * size, model->tensorData(io.tensor), n, io.c, io.h * io.w);
      }
      model->runSteps(d.steps, d.num_steps, n);
      ++model->profiledCalls;
      for (int i = 0; i < d.num_outputs; ++i) {
        const cnnc_io_desc &io = d.outputs[i];
        int64_t size = io.c * io.h * io.w;
        transposeEach(model->tensorData(io.tensor), outputs[i] + start * size, n, io.h * io.w,
                      io.c);
      }
    }
  });
}

void cnnc_set_num_threads(int32_t threads) { halide_set_num_threads(threads > 0 ? threads : 0); }

} // extern "C"
