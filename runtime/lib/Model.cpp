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
#include "ModelContext.h" // first: it makes cnnc.h export the interface
#include "cnnc/runtime/Random.h"
#include "cnnc/runtime/Safetensors.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <memory>
#include <new>
#include <string>
#include <vector>

using namespace cnnc::rt;

namespace {

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

/// Fans of a conv or dense weight, as torch.nn.init computes them.
void fans(const cnnc_param_desc &p, double &fanIn, double &fanOut) {
  double receptive = 1;
  for (int i = 2; i < p.rank; ++i)
    receptive *= static_cast<double>(p.shape[i]);
  fanIn = static_cast<double>(p.rank > 1 ? p.shape[1] : 1) * receptive;
  fanOut = static_cast<double>(p.shape[0]) * receptive;
}

/// Initializes the parameters of `layer` ("" = all of them) and forgets
/// their optimizer state.
void initParams(cnnc_model *m, uint64_t seed, cnnc_init_scheme scheme,
                const std::string &layer = "") {
  const cnnc_model_desc &d = desc();
  if (scheme < CNNC_INIT_PYTORCH_DEFAULT || scheme > CNNC_INIT_XAVIER_NORMAL)
    throw Failure(CNNC_ERROR_ARGUMENT,
                  "unknown initialization scheme " + std::to_string(static_cast<int>(scheme)));
  bool any = false;
  m->hostParams(); // a layer's are set, the others kept
  for (int i = 0; i < d.num_params; ++i) {
    const cnnc_param_desc &p = d.params[i];
    if (!inLayer(p.name, layer))
      continue;
    any = true;
    clearOptimizerState(m, i);
    FloatVector &v = m->params[i];
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
        x = p.init == CNNC_INIT_ONES ? 1.0f : p.init == CNNC_INIT_CONSTANT ? p.init_value : 0.0f;
    }
  }
  if (!any && !layer.empty())
    throw Failure(CNNC_ERROR_MISSING, "no parameters in layer '" + layer + "'");
  for (auto &entry : m->batchesTracked)
    if (layer.empty() || entry.first == layer)
      entry.second = 0;
  if (layer.empty())
    clearOptimizerState(m, -1);
  m->paramsChanged();
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
  OptimizerStaging optimizer;
  for (const cnnc::rt::SafetensorsEntry &e : file.entries) {
    if (stageOptimizerEntry(m, e, source, optimizer))
      continue;
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
  checkOptimizerState(optimizer, source);
  m->hostParams(); // the tensors the file lacks are kept
  m->hostOptimizerState();
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
  applyOptimizerState(m, optimizer);
  m->paramsChanged();
}

/// The weights as a safetensors file, with the optimizer state for a
/// checkpoint.
std::vector<uint8_t> weightsFile(cnnc_model *m, bool withOptimizer) {
  const cnnc_model_desc &d = desc();
  m->hostParams();
  if (withOptimizer)
    m->hostOptimizerState();
  std::vector<cnnc::rt::TensorToWrite> tensors;
  for (int i = 0; i < d.num_params; ++i) {
    const cnnc_param_desc &p = d.params[i];
    tensors.push_back({p.name, "F32", std::vector<int64_t>(p.shape, p.shape + p.rank),
                       m->params[i].data(), m->params[i].size() * sizeof(float)});
  }
  for (auto &entry : m->batchesTracked)
    tensors.push_back({entry.first + ".num_batches_tracked", "I64", {}, &entry.second, 8});
  if (withOptimizer)
    appendOptimizerState(m, tensors);
  return cnnc::rt::serializeSafetensors(tensors, {{"format", "pt"}, {"model", d.name}});
}

/// Hands memory freed inside the heap back to the kernel (glibc keeps it
/// otherwise, and the resident set would not shrink).
void returnFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
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
  case CNNC_ERROR_RELEASED:
    return "parameters released";
  }
  return "unknown status";
}

const char *cnnc_model_name(void) { return desc().name; }
const char *cnnc_model_target(void) { return desc().target; }
const char *cnnc_model_device(void) { return *desc().device ? desc().device : "cpu"; }
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
  return guarded(model, [&] {
    model->requireParams();
    initParams(model, seed, CNNC_INIT_PYTORCH_DEFAULT);
  });
}

cnnc_status cnnc_init_params_with(cnnc_model *model, uint64_t seed, cnnc_init_scheme scheme) {
  return guarded(model, [&] {
    model->requireParams();
    initParams(model, seed, scheme);
  });
}

cnnc_status cnnc_load_weights(cnnc_model *model, const char *path, uint32_t flags) {
  return guarded(model, [&] {
    model->requireParams();
    if (!path)
      throw Failure(CNNC_ERROR_ARGUMENT, "path is null");
    std::vector<uint8_t> bytes;
    std::string error;
    if (!cnnc::rt::readSafetensorsFile(path, bytes, error))
      throw Failure(CNNC_ERROR_IO, error);
    loadWeights(model, bytes.data(), bytes.size(), flags, path);
  });
}

cnnc_status cnnc_load_weights_from_memory(cnnc_model *model, const void *data, size_t size,
                                          uint32_t flags) {
  return guarded(model, [&] {
    model->requireParams();
    if (!data)
      throw Failure(CNNC_ERROR_ARGUMENT, "data is null");
    loadWeights(model, static_cast<const uint8_t *>(data), size, flags, "weights in memory");
  });
}

cnnc_status cnnc_save_weights(cnnc_model *model, const char *path) {
  return guarded(model, [&] {
    model->requireParams();
    if (!path)
      throw Failure(CNNC_ERROR_ARGUMENT, "path is null");
    std::string error;
    if (!cnnc::rt::writeFileAtomically(path, weightsFile(model, false), error))
      throw Failure(CNNC_ERROR_IO, error);
  });
}

cnnc_status cnnc_save_checkpoint(cnnc_model *model, const char *path) {
  return guarded(model, [&] {
    model->requireParams();
    if (!path)
      throw Failure(CNNC_ERROR_ARGUMENT, "path is null");
    std::string error;
    if (!cnnc::rt::writeFileAtomically(path, weightsFile(model, true), error))
      throw Failure(CNNC_ERROR_IO, error);
  });
}

cnnc_status cnnc_reinit_layer(cnnc_model *model, const char *layer, uint64_t seed,
                              cnnc_init_scheme scheme) {
  return guarded(model, [&] {
    model->requireParams();
    if (!layer || !*layer)
      throw Failure(CNNC_ERROR_ARGUMENT, "layer is null or empty");
    initParams(model, seed, scheme, layer);
  });
}

cnnc_status cnnc_get_param(cnnc_model *model, const char *name, float *data, size_t count) {
  return guarded(model, [&] {
    model->requireParams();
    FloatVector &p = model->param(name, data != nullptr, count);
    model->hostParams();
    std::memcpy(data, p.data(), count * sizeof(float));
  });
}

cnnc_status cnnc_set_param(cnnc_model *model, const char *name, const float *data, size_t count) {
  return guarded(model, [&] {
    model->requireParams();
    FloatVector &p = model->param(name, data != nullptr, count);
    model->hostParams();
    std::memcpy(p.data(), data, count * sizeof(float));
    model->paramsChanged();
  });
}

cnnc_status cnnc_forward(cnnc_model *model, int64_t batch, const float *const *inputs,
                         float *const *outputs) {
  return guarded(model, [&] {
    const cnnc_model_desc &d = desc();
    checkBatch(batch);
    if (!inputs || !outputs)
      throw Failure(CNNC_ERROR_ARGUMENT, "inputs or outputs is null");
    checkInputs(inputs);
    for (int i = 0; i < d.num_outputs; ++i)
      if (!outputs[i])
        throw Failure(CNNC_ERROR_ARGUMENT,
                      std::string("output '") + d.outputs[i].name + "' is null");
    model->prepare();
    // Halide buffers hold at most 2^31 - 1 bytes: large batches run in chunks
    // whose largest tensor (and the padded copies the pipelines make of it)
    // stays within 1 GiB.
    int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 28) / model->slots.largestSample());
    for (int64_t start = 0; start < batch; start += chunk) {
      int64_t n = std::min(chunk, batch - start);
      model->slots.reserve(n);
      for (int i = 0; i < d.num_inputs; ++i) {
        const cnnc_io_desc &io = d.inputs[i];
        int64_t size = io.c * io.h * io.w;
        transposeEach(inputs[i] + start * size, model->slots.data(io.tensor), n, io.c, io.h * io.w);
        model->tensorToDevice(model->slots, io.tensor, n);
      }
      model->runSteps(d.steps, d.num_steps, n, model->slots);
      ++model->profiledCalls;
      for (int i = 0; i < d.num_outputs; ++i) {
        const cnnc_io_desc &io = d.outputs[i];
        int64_t size = io.c * io.h * io.w;
        model->tensorToHost(model->slots, io.tensor, n);
        transposeEach(model->slots.data(io.tensor), outputs[i] + start * size, n, io.h * io.w,
                      io.c);
      }
    }
  });
}

cnnc_status cnnc_release_params(cnnc_model *model) {
  return guarded(model, [&] {
    if (model->released)
      return;
    model->prepare(); // the packed forms first: a failure leaves everything held
    const cnnc_model_desc &d = desc();
    // What the inference steps read: those parameters, and the derived
    // arrays they or the prepare steps use (the training step's are freed).
    std::vector<char> paramRead(d.num_params, 0), derivedUsed(d.num_derived, 0);
    for (const auto &[steps, count] :
         {std::pair(d.steps, d.num_steps), std::pair(d.prepare, d.num_prepare)})
      for (int s = 0; s < count; ++s)
        for (int a = 0; a < steps[s].num_inputs + steps[s].num_outputs; ++a) {
          const cnnc_arg_desc &arg = steps[s].args[a];
          if (arg.kind == CNNC_ARG_PARAM && steps == d.steps)
            paramRead[arg.index] = 1;
          if (arg.kind == CNNC_ARG_DERIVED)
            derivedUsed[arg.index] = 1;
        }
    for (int p = 0; p < d.num_params; ++p)
      if (!paramRead[p]) {
        FloatVector().swap(model->params[p]);
        if (model->device)
          model->device->forget(Space::Param, p);
      }
    for (int i = 0; i < d.num_derived; ++i)
      if (!derivedUsed[i]) {
        model->derived[i].reset();
        if (model->device)
          model->device->forget(Space::Derived, i);
      }
    for (auto *state : {&model->grads, &model->momentumBuffer, &model->expAvg, &model->expAvgSq})
      for (FloatVector &v : *state)
        FloatVector().swap(v);
    model->trainSlots = SlotSet();
    if (model->device)
      for (Space space : {Space::TrainSlot, Space::Grad, Space::Momentum, Space::ExpAvg,
                          Space::ExpAvgSq, Space::Hyper})
        model->device->forget(space);
    model->released = true;
    returnFreedMemory();
  });
}

void cnnc_set_num_threads(int32_t threads) { halide_set_num_threads(threads > 0 ? threads : 0); }

} // extern "C"
