//===- ModelContext.h - The state of a model context (internal) -*- C++ -*-===//
//
// Shared by the runtime's translation units (Model.cpp: the inference and
// weights interface; Training.cpp: the training step). Not installed.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_MODELCONTEXT_H
#define CNNC_RUNTIME_MODELCONTEXT_H

#define CNNC_BUILDING_RUNTIME 1
#include "DeviceMemory.h"
#include "LargePages.h"
#include "cnnc/runtime/ModelDescriptor.h"
#include "cnnc/runtime/cnnc.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cnnc::rt {

inline const cnnc_model_desc &desc() { return cnnc_model_descriptor; }

/// Messages of halide_error() for the pipeline call on this thread
/// (HalideErrors.cpp).
inline thread_local std::string halideMessage;

/// Why the last cnnc_create on this thread failed.
inline thread_local std::string createError;

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using FloatArray = std::unique_ptr<float[], FreeDeleter>;

/// `count` floats (LargePages.h: huge pages when large), nullptr on failure.
inline FloatArray allocate(size_t count) {
  return FloatArray(static_cast<float *>(allocateLarge(count * sizeof(float))));
}

inline int64_t paramElements(const cnnc_param_desc &p) {
  int64_t n = 1;
  for (int i = 0; i < p.rank; ++i)
    n *= p.shape[i];
  return n;
}

inline int64_t derivedElements(const cnnc_derived_desc &d) {
  int64_t n = 1;
  for (int i = 0; i < d.rank; ++i)
    n *= d.dims[i];
  return n;
}

inline int64_t tensorElements(const cnnc_tensor_desc &t) { return t.c * t.h * t.w; }

/// The tensor whose buffer holds tensor `t`: itself, or the concat output
/// it is a channel slice of.
inline int storageOf(int t) {
  int storage = desc().tensors[t].storage;
  return storage >= 0 ? storage : t;
}

class Failure {
public:
  Failure(cnnc_status status, std::string message) : status(status), message(std::move(message)) {}
  cnnc_status status;
  std::string message;
};

/// The cnnc status of a failed Halide call: out of (device) memory, or a
/// runtime error.
inline cnnc_status statusOfHalide(int rc) {
  return rc == halide_error_code_out_of_memory || rc == halide_error_code_device_malloc_failed
             ? CNNC_ERROR_MEMORY
             : CNNC_ERROR_RUNTIME;
}

/// A dense Halide buffer over `host` with `dims` (innermost first); with a
/// `pixelStride`, the innermost dimension (channels) is a slice of that many
/// (a tensor of a concat written in place).
struct HalideBuffer {
  halide_buffer_t buffer{};
  halide_dimension_t dim[4]{};

  HalideBuffer(float *host, const int64_t *dims, int rank, int64_t pixelStride = 0) {
    int64_t stride = 1;
    for (int i = 0; i < rank; ++i) {
      dim[i].min = 0;
      dim[i].extent = static_cast<int32_t>(dims[i]);
      dim[i].stride = static_cast<int32_t>(stride);
      stride *= i == 0 && pixelStride > 0 ? pixelStride : dims[i];
    }
    buffer.host = reinterpret_cast<uint8_t *>(host);
    buffer.type.code = halide_type_float;
    buffer.type.bits = 32;
    buffer.type.lanes = 1;
    buffer.dimensions = rank;
    buffer.dim = dim;
  }
};

/// Transposes each of `n` row-major `rows` x `cols` matrices. NCHW (caller)
/// to channels-innermost (slots) is (C, HW) -> (HW, C), and back is
/// (HW, C) -> (C, HW); flat tensors (one row or column) are copied.
inline void transposeEach(const float *src, float *dst, int64_t n, int64_t rows, int64_t cols) {
  if (rows == 1 || cols == 1) {
    std::memcpy(dst, src, sizeof(float) * n * rows * cols);
    return;
  }
  for (int64_t b = 0; b < n; ++b, src += rows * cols, dst += rows * cols)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        dst[c * rows + r] = src[r * cols + c];
}

inline bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Whether parameter `name` belongs to layer `layer` ("layer.*"; "" = every
/// layer).
inline bool inLayer(const std::string &name, const std::string &layer) {
  return layer.empty() || (name.size() > layer.size() &&
                           name.compare(0, layer.size(), layer) == 0 && name[layer.size()] == '.');
}

/// Argument checks shared by cnnc_forward and cnnc_train_step: a batch in
/// [1, 2^30], and a buffer for every input (of a non-null array).
inline void checkBatch(int64_t batch) {
  if (batch < 1 || batch > CNNC_MAX_BATCH)
    throw Failure(CNNC_ERROR_ARGUMENT,
                  "batch size " + std::to_string(batch) + " is not in [1, 2^30]");
}

inline void checkInputs(const float *const *inputs) {
  for (int i = 0; i < desc().num_inputs; ++i)
    if (!inputs[i])
      throw Failure(CNNC_ERROR_ARGUMENT,
                    std::string("input '") + desc().inputs[i].name + "' is null");
}

/// Activation storage shared by liveness over a sequence of events (a step
/// reads its input tensors and writes its outputs): a slot holds a tensor
/// from the event that writes it to the last event that reads it. Slots
/// are sized per sample and grown when a call brings a larger batch. A
/// channel slice of another tensor counts as that tensor: its buffer lives
/// from the first write of any slice to the last read of any.
struct SlotSet {
  struct Event {
    std::vector<int> reads, writes;
  };
  std::vector<int> slotOf; ///< tensor -> slot, -1 for tensors never written
  std::vector<int64_t> slotElements;
  std::vector<FloatArray> slots;
  int64_t capacity = 0; ///< batch size the slots hold

  void assign(std::vector<Event> events, int numTensors) {
    for (Event &e : events)
      for (auto *list : {&e.reads, &e.writes})
        for (int &t : *list)
          t = storageOf(t);
    std::vector<int> lastUse(numTensors, -1);
    for (size_t e = 0; e < events.size(); ++e) {
      for (int t : events[e].reads)
        lastUse[t] = static_cast<int>(e);
      for (int t : events[e].writes)
        lastUse[t] = std::max(lastUse[t], static_cast<int>(e));
    }
    slotOf.assign(numTensors, -1);
    std::vector<bool> busy;
    for (size_t e = 0; e < events.size(); ++e) {
      for (int t : events[e].writes) {
        if (slotOf[t] >= 0)
          continue;
        int64_t need = tensorElements(desc().tensors[t]);
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
      }
      for (const auto *list : {&events[e].reads, &events[e].writes})
        for (int t : *list)
          if (lastUse[t] == static_cast<int>(e) && slotOf[t] >= 0)
            busy[slotOf[t]] = false;
    }
    for (int t = 0; t < numTensors; ++t)
      slotOf[t] = slotOf[storageOf(t)];
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

  /// Where tensor `t` starts: its slot, or its channels in its storage's.
  float *data(int t) { return slots[slotOf[t]].get() + desc().tensors[t].channel_offset; }

  /// Floats the slot of tensor `t` holds at the current capacity.
  size_t slotFloats(int t) const { return static_cast<size_t>(slotElements[slotOf[t]] * capacity); }

  /// Floats per sample of the largest slot.
  int64_t largestSample() const {
    int64_t largest = 1;
    for (int64_t e : slotElements)
      largest = std::max(largest, e);
    return largest;
  }
};

/// One event per step: its tensor inputs read, its tensor outputs written.
inline void appendStepEvents(std::vector<SlotSet::Event> &events, const cnnc_step_desc *steps,
                             int count) {
  for (int s = 0; s < count; ++s) {
    SlotSet::Event e;
    for (int a = 0; a < steps[s].num_inputs + steps[s].num_outputs; ++a)
      if (steps[s].args[a].kind == CNNC_ARG_TENSOR)
        (a < steps[s].num_inputs ? e.reads : e.writes).push_back(steps[s].args[a].index);
    events.push_back(std::move(e));
  }
}

} // namespace cnnc::rt

/// The state behind a cnnc_model handle.
struct cnnc_model {
  std::vector<cnnc::rt::FloatVector> params;
  std::vector<cnnc::rt::FloatArray> derived;
  std::map<std::string, int64_t> batchesTracked; ///< batchnorm prefix -> count
  bool prepared = false;
  /// Set by cnnc_release_params: only what inference reads is left.
  bool released = false;

  cnnc::rt::SlotSet slots; ///< inference activations

  // The training step (Training.cpp).
  cnnc::rt::SlotSet trainSlots;             ///< training activations and gradients
  std::vector<cnnc::rt::FloatVector> grads; ///< per parameter (empty until training)
  std::vector<char> frozen;                 ///< per parameter, set at run time
  std::vector<char> backwardEnabled;        ///< per backward step, from `frozen`
  std::vector<char> receivesGradient;       ///< per parameter, from `frozen`
  bool backwardPlanned = false;
  /// Optimizer state per parameter (empty vectors: none yet), as PyTorch
  /// names it: SGD's momentum_buffer, Adam's exp_avg and exp_avg_sq.
  std::vector<cnnc::rt::FloatVector> momentumBuffer, expAvg, expAvgSq;
  std::vector<int64_t> paramSteps; ///< Adam's per-parameter step count
  /// A GPU context's rows of optimizer hyperparameters, one per parameter
  /// (ModelDescriptor.h's CNNC_HYPER_*).
  cnnc::rt::FloatVector hyperRows;
  int64_t trainSteps = 0; ///< training steps taken (dropout masks' stream)

  std::string error;

  /// The device copies of a model compiled for a GPU, else null.
  std::unique_ptr<cnnc::rt::DeviceMemory> device;

  /// CNNC_PROFILE=1 in the environment: seconds per generated step of the
  /// forward pass and of the training step, printed to stderr when the
  /// context is destroyed (Profile.cpp, docs/runtime-api.md).
  bool profiling = false;
  std::vector<double> stepSeconds;
  int64_t profiledCalls = 0;
  std::vector<double> trainSeconds[3]; ///< train_prepare, train_forward, backward
  double runtimeSeconds = 0;           ///< loss, running statistics, optimizer
  int64_t profiledTrainSteps = 0;

  ~cnnc_model() {
    if (profiling)
      printProfiles();
  }
  void printProfiles() const;

  /// Where the times of step list `steps` (a whole descriptor list) go, or
  /// nullptr.
  std::vector<double> *profileOf(const cnnc_step_desc *steps, int count) {
    const cnnc_model_desc &d = cnnc::rt::desc();
    if (steps == d.steps && count == d.num_steps)
      return &stepSeconds;
    const cnnc_step_desc *lists[3] = {d.train_prepare, d.train_forward, d.backward};
    const int counts[3] = {d.num_train_prepare, d.num_train_forward, d.num_backward};
    for (int l = 0; l < 3; ++l)
      if (steps == lists[l] && count == counts[l]) {
        trainSeconds[l].resize(counts[l], 0.0);
        return &trainSeconds[l];
      }
    return nullptr;
  }

  cnnc_model() {
    using namespace cnnc::rt;
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
      if (endsWith(name, suffix))
        batchesTracked[name.substr(0, name.size() - suffix.size())] = 0;
    }
    frozen.assign(d.num_params, 0);
    for (int i = 0; i < d.num_params; ++i)
      frozen[i] = (d.params[i].flags & CNNC_PARAM_FROZEN) != 0;
    momentumBuffer.resize(d.num_params);
    expAvg.resize(d.num_params);
    expAvgSq.resize(d.num_params);
    paramSteps.assign(d.num_params, 0);
    // Inference: inputs are written first, outputs read last.
    std::vector<SlotSet::Event> events(1);
    for (int i = 0; i < d.num_inputs; ++i)
      events[0].writes.push_back(d.inputs[i].tensor);
    appendStepEvents(events, d.steps, d.num_steps);
    events.emplace_back();
    for (int o = 0; o < d.num_outputs; ++o)
      events.back().reads.push_back(d.outputs[o].tensor);
    slots.assign(events, d.num_tensors);
    if (d.device_interface)
      device = std::make_unique<cnnc::rt::DeviceMemory>(d.device_interface(), d.device);
  }

  /// The host copies of the parameters, brought up to date before the host
  /// reads or changes them (a GPU context's optimizer updates the device
  /// copies).
  void hostParams() {
    if (device)
      device->toHostAll(cnnc::rt::Space::Param);
  }
  /// The same for the optimizer state.
  void hostOptimizerState() {
    if (device)
      for (auto space :
           {cnnc::rt::Space::Momentum, cnnc::rt::Space::ExpAvg, cnnc::rt::Space::ExpAvgSq})
        device->toHostAll(space);
  }

  /// The host copies of the parameters changed (loaded, initialized, set,
  /// or updated by the host-side optimizer): inference must prepare again,
  /// and a GPU context uploads each before a step reads it. Callers made
  /// them current first (hostParams).
  void paramsChanged() {
    prepared = false;
    if (device)
      device->hostWrote(cnnc::rt::Space::Param);
  }

  /// One argument of a generated function: a buffer over part of array
  /// (space, index), which starts at `base` and holds `floats`, from float
  /// `offset` on.
  struct PipelineArg {
    cnnc::rt::Space space;
    int index;
    float *base;
    size_t floats, offset;
    cnnc::rt::HalideBuffer buffer;
  };
  /// Calls `fn` on `args`, the first `numInputs` read, the rest written; on
  /// a GPU, on the device copies of their arrays. Returns Halide's status.
  int callPipeline(cnnc_pipeline_fn fn, std::vector<PipelineArg> &args, size_t numInputs) {
    std::vector<cnnc::rt::DeviceMemory::Range> ranges(device ? args.size() : 0);
    std::vector<void *> argv;
    for (size_t a = 0; a < args.size(); ++a) {
      PipelineArg &arg = args[a];
      arg.buffer.buffer.dim = arg.buffer.dim; // the vector may have moved them
      if (device) {
        device->attach(arg.space, arg.index, arg.base, arg.floats, arg.offset, arg.buffer.buffer,
                       ranges[a]);
        if (a >= numInputs)
          device->deviceWrote(arg.space, arg.index);
      }
      argv.push_back(&arg.buffer.buffer);
    }
    cnnc::rt::halideMessage.clear();
    return fn(argv.data());
  }

  /// A device kernel (cnnc_device_optimizer) on whole 1-D arrays or ranges.
  void runDeviceKernel(cnnc_pipeline_fn fn, const char *what, std::vector<PipelineArg> args,
                       size_t numInputs) {
    int rc = callPipeline(fn, args, numInputs);
    if (rc != 0)
      throw cnnc::rt::Failure(cnnc::rt::statusOfHalide(rc),
                              std::string("the device optimizer (") + what +
                                  ") failed: " + cnnc::rt::halideMessage);
  }
  /// Floats [offset, offset + floats) of array (space, index) at `base` of
  /// `count`, as a 1-D argument.
  static PipelineArg vectorArg(cnnc::rt::Space space, int index, float *base, size_t count,
                               size_t offset = 0, size_t floats = 0) {
    int64_t dims[1] = {static_cast<int64_t>(floats ? floats : count - offset)};
    return {space, index, base, count, offset, cnnc::rt::HalideBuffer(base + offset, dims, 1)};
  }

  cnnc::rt::Space spaceOf(const cnnc::rt::SlotSet &set) const {
    return &set == &slots        ? cnnc::rt::Space::Slot
           : &set == &trainSlots ? cnnc::rt::Space::TrainSlot
                                 : cnnc::rt::Space::Scratch;
  }

  /// Copies the first `batch` samples of tensor `t` of `set` to the device
  /// after the host wrote them, or back before the host reads them (no-ops
  /// on the CPU).
  void tensorToDevice(cnnc::rt::SlotSet &set, int t, int64_t batch) {
    if (device)
      device->upload(spaceOf(set), set.slotOf[t], set.slots[set.slotOf[t]].get(), set.slotFloats(t),
                     cnnc::rt::desc().tensors[t].channel_offset, tensorFloats(t, batch));
  }
  void tensorToHost(cnnc::rt::SlotSet &set, int t, int64_t batch) {
    if (device)
      device->download(spaceOf(set), set.slotOf[t], set.slots[set.slotOf[t]].get(),
                       set.slotFloats(t), cnnc::rt::desc().tensors[t].channel_offset,
                       tensorFloats(t, batch));
  }
  /// The floats from tensor `t`'s first to its last, `batch` samples.
  static size_t tensorFloats(int t, int64_t batch) {
    const cnnc_tensor_desc &td = cnnc::rt::desc().tensors[t];
    const cnnc_tensor_desc &storage = cnnc::rt::desc().tensors[cnnc::rt::storageOf(t)];
    return static_cast<size_t>(cnnc::rt::tensorElements(storage) * batch - td.channel_offset);
  }

  /// Throws unless the parameters are still held (see cnnc_release_params).
  void requireParams() const {
    if (released)
      throw cnnc::rt::Failure(CNNC_ERROR_RELEASED,
                              "the parameters were released by cnnc_release_params: this "
                              "context only runs inference");
  }

  int paramIndex(const std::string &name) const {
    // Looked up once per tensor of a loaded file, whose size nobody bounds.
    static const std::unordered_map<std::string, int> index = [] {
      std::unordered_map<std::string, int> byName;
      for (int i = 0; i < cnnc::rt::desc().num_params; ++i)
        byName.emplace(cnnc::rt::desc().params[i].name, i);
      return byName;
    }();
    auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
  }

  /// The parameter `name`, checked against a caller's buffer of `count`.
  cnnc::rt::FloatVector &param(const char *name, bool haveBuffer, size_t count) {
    using cnnc::rt::Failure;
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

  void runSteps(const cnnc_step_desc *steps, int count, int64_t batch, cnnc::rt::SlotSet &set,
                const std::vector<char> *enabled = nullptr) {
    const cnnc_model_desc &d = cnnc::rt::desc();
    std::vector<double> *times = profiling ? profileOf(steps, count) : nullptr;
    for (int s = 0; s < count; ++s) {
      const cnnc_step_desc &step = steps[s];
      if (enabled && !(*enabled)[s])
        continue;
      std::vector<PipelineArg> args;
      args.reserve(step.num_inputs + step.num_outputs);
      for (int a = 0; a < step.num_inputs + step.num_outputs; ++a) {
        const cnnc_arg_desc &arg = step.args[a];
        switch (arg.kind) {
        case CNNC_ARG_TENSOR: {
          const cnnc_tensor_desc &t = d.tensors[arg.index];
          int64_t dims[4] = {t.c, t.w, t.h, batch};
          int slot = set.slotOf[arg.index];
          args.push_back({spaceOf(set), slot, set.slots[slot].get(), set.slotFloats(arg.index),
                          static_cast<size_t>(t.channel_offset),
                          cnnc::rt::HalideBuffer(set.data(arg.index), dims, 4,
                                                 d.tensors[cnnc::rt::storageOf(arg.index)].c)});
          break;
        }
        case CNNC_ARG_PARAM:
        case CNNC_ARG_GRAD: {
          const cnnc_param_desc &p = d.params[arg.index];
          int64_t dims[4];
          for (int i = 0; i < p.rank; ++i)
            dims[i] = p.shape[p.rank - 1 - i];
          bool param = arg.kind == CNNC_ARG_PARAM;
          cnnc::rt::FloatVector &v = param ? params[arg.index] : grads[arg.index];
          args.push_back({param ? cnnc::rt::Space::Param : cnnc::rt::Space::Grad, arg.index,
                          v.data(), v.size(), 0, cnnc::rt::HalideBuffer(v.data(), dims, p.rank)});
          break;
        }
        default: {
          const cnnc_derived_desc &dd = d.derived[arg.index];
          float *base = derived[arg.index].get();
          args.push_back({cnnc::rt::Space::Derived, arg.index, base,
                          static_cast<size_t>(cnnc::rt::derivedElements(dd)), 0,
                          cnnc::rt::HalideBuffer(base, dd.dims, dd.rank)});
          break;
        }
        }
      }
      auto start = std::chrono::steady_clock::now();
      int rc = callPipeline(step.fn, args, static_cast<size_t>(step.num_inputs));
      if (times && device && rc == 0)
        device->synchronize();
      if (times)
        (*times)[s] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (rc != 0)
        throw cnnc::rt::Failure(cnnc::rt::statusOfHalide(rc),
                                std::string("step ") + step.function + " (" + step.layers +
                                    ") failed: " + cnnc::rt::halideMessage);
    }
  }

  void prepare() {
    if (prepared)
      return;
    runSteps(cnnc::rt::desc().prepare, cnnc::rt::desc().num_prepare, 1, slots);
    prepared = true;
  }
};

namespace cnnc::rt {

struct SafetensorsEntry;
struct TensorToWrite;

/// Optimizer state found in a weights file, applied only once the whole
/// file is valid (Training.cpp).
struct OptimizerStaging {
  struct Tensor {
    int param, kind;
    const SafetensorsEntry *entry;
  };
  std::vector<Tensor> tensors;
  std::vector<std::pair<int, int64_t>> steps;
  std::optional<int64_t> trainSteps;
};
/// True if `e` is optimizer state ("optimizer.*"), checked and staged.
bool stageOptimizerEntry(cnnc_model *m, const SafetensorsEntry &e, const std::string &source,
                         OptimizerStaging &staging);
/// The staged state as a whole: each parameter's Adam state complete
/// (exp_avg, exp_avg_sq >= 0, 1 <= step <= 2^62) or absent, the step count
/// in [0, 2^62].
/// Throws a Failure naming the tensors; nothing has changed yet.
void checkOptimizerState(const OptimizerStaging &staging, const std::string &source);
void applyOptimizerState(cnnc_model *m, const OptimizerStaging &staging);
void appendOptimizerState(cnnc_model *m, std::vector<TensorToWrite> &tensors);
/// Forgets the optimizer state of parameter `param` (-1: of all, and the
/// step count).
void clearOptimizerState(cnnc_model *m, int param);

// Data augmentation (Augmentation.cpp).
void checkAugmentation(const cnnc_augmentation &a);
bool isIdentity(const cnnc_augmentation &a);
cnnc_augmentation declaredAugmentation(const cnnc_augment_desc &d);
void drawAugmentationMaps(const cnnc_augmentation &a, int64_t batch, int64_t height, int64_t width,
                          uint64_t seed, float *maps);
/// The augmentation step of network input `input`, or nullptr.
const cnnc_augment_desc *augmentOfInput(int32_t input);

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

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_MODELCONTEXT_H
