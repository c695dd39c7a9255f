//===- Training.cpp - The training step of a generated model --------------===//
//
// cnnc_train_step runs the generated steps of the descriptor's training
// lists and does the small per-batch work between them itself: the dropout
// masks, the softmax cross-entropy and its gradient (N x classes values),
// the running statistics of batchnorm and the optimizer's update (one pass
// over each parameter: memory-bound, as fast here as generated). The
// formulas are PyTorch's (torch.nn.functional.cross_entropy with
// label_smoothing, torch.optim.SGD / Adam / AdamW of torch 1.13) and are
// checked against it (test/conformance/training.py).
//
//===----------------------------------------------------------------------===//
#include "ModelContext.h"
#include "cnnc/runtime/Random.h"
#include "cnnc/runtime/Safetensors.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace cnnc::rt;

namespace {

bool isBuffer(int p) { return (desc().params[p].flags & CNNC_PARAM_BUFFER) != 0; }

/// Which backward steps to run: those that produce the gradient of a
/// trainable parameter or a tensor gradient that such a step reads.
void planBackward(cnnc_model *m) {
  const cnnc_model_desc &d = desc();
  m->backwardEnabled.assign(d.num_backward, 0);
  m->receivesGradient.assign(d.num_params, 0);
  std::vector<char> needed(d.num_tensors, 0);
  for (int s = d.num_backward - 1; s >= 0; --s) {
    const cnnc_step_desc &step = d.backward[s];
    bool need = false;
    for (int a = step.num_inputs; a < step.num_inputs + step.num_outputs; ++a) {
      const cnnc_arg_desc &arg = step.args[a];
      if (arg.kind == CNNC_ARG_GRAD && !m->frozen[arg.index] && !isBuffer(arg.index))
        need = true;
      if (arg.kind == CNNC_ARG_TENSOR && needed[arg.index])
        need = true;
    }
    if (!need)
      continue;
    m->backwardEnabled[s] = 1;
    for (int a = 0; a < step.num_inputs; ++a)
      if (step.args[a].kind == CNNC_ARG_TENSOR)
        needed[step.args[a].index] = 1;
    for (int a = step.num_inputs; a < step.num_inputs + step.num_outputs; ++a)
      if (step.args[a].kind == CNNC_ARG_GRAD)
        m->receivesGradient[step.args[a].index] = 1;
  }
  m->backwardPlanned = true;
}

/// Liveness over the whole training step: inputs and masks first, then the
/// forward steps, the loss (reads the logits, writes their gradient), and
/// the backward steps.
void assignTrainingSlots(cnnc_model *m) {
  const cnnc_model_desc &d = desc();
  std::vector<SlotSet::Event> events(1);
  for (int i = 0; i < d.num_inputs; ++i)
    events[0].writes.push_back(d.inputs[i].tensor);
  for (int i = 0; i < d.num_dropouts; ++i)
    events[0].writes.push_back(d.dropouts[i].mask);
  // An augmented tensor is written first too: with augmentation off the
  // batch goes straight into it.
  for (int i = 0; i < d.num_augments; ++i) {
    events[0].writes.push_back(d.augments[i].maps);
    events[0].writes.push_back(d.augments[i].output);
  }
  appendStepEvents(events, d.train_forward, d.num_train_forward);
  events.push_back({{d.loss_input}, {d.loss_grad}});
  appendStepEvents(events, d.backward, d.num_backward);
  m->trainSlots.assign(events, d.num_tensors);
}

void checkHyperparams(const cnnc_hyperparams &h) {
  auto fail = [](const std::string &what) { throw Failure(CNNC_ERROR_ARGUMENT, what); };
  auto finite = [](float v) { return std::isfinite(v); };
  if (h.optimizer < CNNC_OPTIMIZER_SGD || h.optimizer > CNNC_OPTIMIZER_ADAMW)
    fail("unknown optimizer " + std::to_string(static_cast<int>(h.optimizer)));
  if (!finite(h.learning_rate) || h.learning_rate < 0)
    fail("learning rate " + std::to_string(h.learning_rate) + " is not a finite value >= 0");
  if (!finite(h.weight_decay) || h.weight_decay < 0)
    fail("weight decay " + std::to_string(h.weight_decay) + " is not a finite value >= 0");
  if (!finite(h.label_smoothing) || h.label_smoothing < 0 || h.label_smoothing >= 1)
    fail("label smoothing " + std::to_string(h.label_smoothing) + " is not in [0, 1)");
  if (h.optimizer == CNNC_OPTIMIZER_SGD) {
    if (!finite(h.momentum) || h.momentum < 0)
      fail("momentum " + std::to_string(h.momentum) + " is not a finite value >= 0");
    if (h.nesterov && (h.momentum <= 0 || h.dampening != 0))
      fail("Nesterov momentum needs a momentum > 0 and zero dampening");
  } else {
    if (!(h.beta1 >= 0 && h.beta1 < 1) || !(h.beta2 >= 0 && h.beta2 < 1))
      fail("Adam's betas must be in [0, 1)");
    if (!finite(h.epsilon) || h.epsilon <= 0)
      fail("Adam's epsilon must be > 0");
  }
  if (h.augmentation)
    checkAugmentation(*h.augmentation);
}

/// Softmax cross-entropy with label smoothing, mean over the batch: the
/// loss, d(loss)/d(logits) into `grad`, and the number of correct argmaxes.
void crossEntropy(const float *logits, float *grad, const int32_t *labels, int64_t batch,
                  int64_t classes, float smoothing, cnnc_train_result &result) {
  double total = 0;
  int64_t correct = 0;
  float off = smoothing / static_cast<float>(classes);
  float invBatch = 1.0f / static_cast<float>(batch);
  for (int64_t n = 0; n < batch; ++n) {
    const float *z = logits + n * classes;
    float *g = grad + n * classes;
    int64_t best = 0;
    for (int64_t k = 1; k < classes; ++k)
      if (z[k] > z[best])
        best = k;
    correct += best == labels[n];
    double sum = 0;
    for (int64_t k = 0; k < classes; ++k)
      sum += std::exp(static_cast<double>(z[k]) - z[best]);
    double logSum = z[best] + std::log(sum);
    double loss = 0;
    for (int64_t k = 0; k < classes; ++k) {
      double logp = z[k] - logSum;
      float target = off + (k == labels[n] ? 1.0f - smoothing : 0.0f);
      loss -= target * logp;
      g[k] = (static_cast<float>(std::exp(logp)) - target) * invBatch;
    }
    total += loss;
  }
  result.loss = static_cast<float>(total / static_cast<double>(batch));
  result.correct = correct;
}

/// Running statistics as nn.BatchNorm2d updates them: the unbiased batch
/// variance, momentum-weighted.
void updateRunningStatistics(cnnc_model *m, int64_t batch) {
  const cnnc_model_desc &d = desc();
  for (int i = 0; i < d.num_batch_stats; ++i) {
    const cnnc_batch_stats_desc &b = d.batch_stats[i];
    if (m->device) {
      for (int stat : {b.batch_mean, b.batch_var})
        m->device->toHost(Space::Derived, stat, m->derived[stat].get(),
                          static_cast<size_t>(derivedElements(d.derived[stat])));
      for (int running : {b.running_mean, b.running_var}) {
        m->device->toHost(Space::Param, running, m->params[running].data(),
                          m->params[running].size());
        m->device->hostWrote(Space::Param, running); // updated below
      }
    }
    const float *mean = m->derived[b.batch_mean].get();
    const float *var = m->derived[b.batch_var].get();
    FloatVector &rm = m->params[b.running_mean];
    FloatVector &rv = m->params[b.running_var];
    double count = static_cast<double>(batch * b.pixels);
    float unbias = static_cast<float>(count / (count - 1));
    for (size_t c = 0; c < rm.size(); ++c) {
      rm[c] = (1 - b.momentum) * rm[c] + b.momentum * mean[c];
      rv[c] = (1 - b.momentum) * rv[c] + b.momentum * var[c] * unbias;
    }
    ++m->batchesTracked[b.layer];
  }
}

/// Runs body(begin, end) over chunks of [0, n) on Halide's worker pool (the
/// threads cnnc_set_num_threads sets): the optimizer's passes over large
/// layers (VGG's 100M-weight dense layer) are memory-bound, and one core
/// alone does not saturate the memory.
template <typename F> void parallelChunks(size_t n, F &&body) {
  constexpr size_t chunk = size_t(1) << 16;
  int tasks = static_cast<int>((n + chunk - 1) / chunk);
  if (tasks <= 1) {
    body(size_t(0), n);
    return;
  }
  struct Closure {
    F *body;
    size_t n;
  } closure{&body, n};
  auto task = [](void *, int t, uint8_t *data) -> int {
    auto *c = reinterpret_cast<Closure *>(data);
    size_t begin = static_cast<size_t>(t) * chunk;
    (*c->body)(begin, std::min(c->n, begin + chunk));
    return 0;
  };
  halide_do_par_for(nullptr, task, 0, tasks, reinterpret_cast<uint8_t *>(&closure));
}

// The gradient buffers stay as computed (cnnc_get_grad); decay and
// momentum are applied on the way.
void sgdUpdate(cnnc_model *m, int p, const cnnc_hyperparams &h) {
  FloatVector &w = m->params[p];
  const FloatVector &g = m->grads[p];
  size_t n = w.size();
  FloatVector &buf = m->momentumBuffer[p];
  bool first = buf.empty();
  if (h.momentum != 0 && first)
    buf.resize(n);
  parallelChunks(n, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float d = g[i] + h.weight_decay * w[i];
      if (h.momentum != 0) {
        buf[i] = first ? d : h.momentum * buf[i] + (1 - h.dampening) * d;
        d = h.nesterov ? d + h.momentum * buf[i] : buf[i];
      }
      w[i] -= h.learning_rate * d;
    }
  });
}

void adamUpdate(cnnc_model *m, int p, const cnnc_hyperparams &h) {
  FloatVector &w = m->params[p];
  const FloatVector &g = m->grads[p];
  size_t n = w.size();
  FloatVector &avg = m->expAvg[p], &avgSq = m->expAvgSq[p];
  if (avg.empty()) {
    avg.assign(n, 0.0f);
    avgSq.assign(n, 0.0f);
    m->paramSteps[p] = 0;
  }
  int64_t step = ++m->paramSteps[p];
  bool decoupled = h.optimizer == CNNC_OPTIMIZER_ADAMW;
  float decay = decoupled ? 1 - h.learning_rate * h.weight_decay : 1.0f;
  float l2 = decoupled ? 0.0f : h.weight_decay;
  double correction1 = 1 - std::pow(static_cast<double>(h.beta1), static_cast<double>(step));
  double correction2 = 1 - std::pow(static_cast<double>(h.beta2), static_cast<double>(step));
  float stepSize = static_cast<float>(h.learning_rate / correction1);
  float correction2Sqrt = static_cast<float>(std::sqrt(correction2));
  parallelChunks(n, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float d = g[i] + l2 * w[i];
      w[i] *= decay;
      avg[i] = avg[i] * h.beta1 + (1 - h.beta1) * d;
      avgSq[i] = avgSq[i] * h.beta2 + (1 - h.beta2) * d * d;
      float denom = std::sqrt(avgSq[i]) / correction2Sqrt + h.epsilon;
      w[i] -= stepSize * avg[i] / denom;
    }
  });
}

/// The optimizer's update of every trainable parameter on the device
/// (ModelDescriptor.h's cnnc_device_optimizer): the host keeps the step
/// counts and the hyperparameters, one row per parameter, each a device
/// array of its own (OpenCL sub-buffers cannot start at any offset).
void deviceUpdate(cnnc_model *m, const cnnc_hyperparams &h) {
  const cnnc_model_desc &d = desc();
  const cnnc_device_optimizer &k = d.device_optimizer;
  if (!k.sgd || !k.sgd_momentum || !k.adam)
    throw Failure(CNNC_ERROR_RUNTIME, "this GPU model has no device optimizer");
  // Sized once: the rows' device copies are keyed by where they live.
  if (m->hyperRows.empty())
    m->hyperRows.assign(static_cast<size_t>(d.num_params) * CNNC_HYPER_COUNT, 0.0f);
  std::vector<int> updated;
  for (int p = 0; p < d.num_params; ++p) {
    if (isBuffer(p) || m->frozen[p] || !m->receivesGradient[p])
      continue;
    updated.push_back(p);
    float *row = m->hyperRows.data() + static_cast<size_t>(p) * CNNC_HYPER_COUNT;
    size_t n = m->params[p].size();
    row[CNNC_HYPER_LR] = h.learning_rate;
    row[CNNC_HYPER_WEIGHT_DECAY] = h.weight_decay;
    if (h.optimizer == CNNC_OPTIMIZER_SGD) {
      row[CNNC_HYPER_MOMENTUM] = h.momentum;
      row[CNNC_HYPER_DAMPENING] = h.dampening;
      row[CNNC_HYPER_NESTEROV] = h.nesterov ? 1.0f : 0.0f;
      FloatVector &buf = m->momentumBuffer[p];
      row[CNNC_HYPER_FIRST] = buf.empty() ? 1.0f : 0.0f;
      if (h.momentum != 0 && buf.empty()) {
        buf.assign(n, 0.0f);
        m->device->forget(Space::Momentum, p);
      }
      continue;
    }
    FloatVector &avg = m->expAvg[p], &avgSq = m->expAvgSq[p];
    if (avg.empty()) {
      avg.assign(n, 0.0f);
      avgSq.assign(n, 0.0f);
      m->device->forget(Space::ExpAvg, p);
      m->device->forget(Space::ExpAvgSq, p);
      m->paramSteps[p] = 0;
    }
    int64_t step = ++m->paramSteps[p];
    bool decoupled = h.optimizer == CNNC_OPTIMIZER_ADAMW;
    row[CNNC_HYPER_DECAY] = decoupled ? 1 - h.learning_rate * h.weight_decay : 1.0f;
    row[CNNC_HYPER_L2] = decoupled ? 0.0f : h.weight_decay;
    row[CNNC_HYPER_BETA1] = h.beta1;
    row[CNNC_HYPER_BETA2] = h.beta2;
    row[CNNC_HYPER_EPSILON] = h.epsilon;
    double correction1 = 1 - std::pow(static_cast<double>(h.beta1), static_cast<double>(step));
    double correction2 = 1 - std::pow(static_cast<double>(h.beta2), static_cast<double>(step));
    row[CNNC_HYPER_STEP_SIZE] = static_cast<float>(h.learning_rate / correction1);
    row[CNNC_HYPER_CORRECTION2_SQRT] = static_cast<float>(std::sqrt(correction2));
  }
  for (int p : updated) {
    size_t n = m->params[p].size();
    auto arg = [&](Space space, FloatVector &v) {
      return cnnc_model::vectorArg(space, p, v.data(), n);
    };
    float *row = m->hyperRows.data() + static_cast<size_t>(p) * CNNC_HYPER_COUNT;
    m->device->upload(Space::Hyper, p, row, CNNC_HYPER_COUNT, 0, CNNC_HYPER_COUNT);
    auto hyper = cnnc_model::vectorArg(Space::Hyper, p, row, CNNC_HYPER_COUNT);
    auto w = arg(Space::Param, m->params[p]);
    auto g = arg(Space::Grad, m->grads[p]);
    if (h.optimizer != CNNC_OPTIMIZER_SGD) {
      auto avg = arg(Space::ExpAvg, m->expAvg[p]), avgSq = arg(Space::ExpAvgSq, m->expAvgSq[p]);
      m->runDeviceKernel(k.adam, "adam", {w, g, avg, avgSq, hyper, w, avg, avgSq}, 5);
    } else if (h.momentum != 0) {
      auto buf = arg(Space::Momentum, m->momentumBuffer[p]);
      m->runDeviceKernel(k.sgd_momentum, "sgd", {w, g, buf, hyper, w, buf}, 4);
    } else {
      m->runDeviceKernel(k.sgd, "sgd", {w, g, hyper, w}, 3);
    }
  }
}

void trainStep(cnnc_model *m, int64_t batch, const float *const *inputs, const int32_t *labels,
               const cnnc_hyperparams *hyper, cnnc_train_result *out) {
  const cnnc_model_desc &d = desc();
  if (d.loss_input < 0)
    throw Failure(CNNC_ERROR_ARGUMENT,
                  std::string("network '") + d.name + "' has no training step: " + d.no_training);
  checkBatch(batch);
  if (!inputs || !labels || !hyper)
    throw Failure(CNNC_ERROR_ARGUMENT, "inputs, labels or hyperparameters is null");
  checkInputs(inputs);
  checkHyperparams(*hyper);
  const cnnc_tensor_desc &logits = d.tensors[d.loss_input];
  int64_t classes = logits.c;
  for (int64_t n = 0; n < batch; ++n)
    if (labels[n] < 0 || labels[n] >= classes)
      throw Failure(CNNC_ERROR_ARGUMENT, "label " + std::to_string(labels[n]) + " of sample " +
                                             std::to_string(n) + " is not in [0, " +
                                             std::to_string(classes) + ")");
  for (int i = 0; i < d.num_batch_stats; ++i)
    if (batch * d.batch_stats[i].pixels < 2)
      throw Failure(CNNC_ERROR_ARGUMENT,
                    std::string("batchnorm '") + d.batch_stats[i].layer +
                        "' needs more than one value per channel in training (batch " +
                        std::to_string(batch) + ")");
  if (!m->backwardPlanned)
    planBackward(m);
  if (m->trainSlots.slots.empty() && m->trainSlots.slotOf.empty())
    assignTrainingSlots(m);
  if (m->trainSlots.largestSample() * batch > (int64_t(1) << 29))
    throw Failure(CNNC_ERROR_ARGUMENT,
                  "batch " + std::to_string(batch) + " is too large for one training step (max " +
                      std::to_string((int64_t(1) << 29) / m->trainSlots.largestSample()) + ")");
  if (m->grads.empty()) {
    m->grads.resize(d.num_params);
    for (int p = 0; p < d.num_params; ++p)
      if (!isBuffer(p))
        m->grads[p].assign(m->params[p].size(), 0.0f);
  }
  m->trainSlots.reserve(batch);

  // The training prepare steps overwrite the packed filters that inference
  // reads (without batchnorm folded in): whatever happens next, the next
  // inference call must prepare again. Nothing else changes before every
  // generated step has succeeded, so a failing step leaves the parameters,
  // statistics and optimizer state as they were.
  m->prepared = false;
  m->runSteps(d.train_prepare, d.num_train_prepare, 1, m->trainSlots);
  // The random streams of this step (cnnc.h documents the seed).
  uint64_t stepSeed =
      hyper->seed ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(m->trainSteps + 1));
  std::vector<char> forwardEnabled(d.num_train_forward, 1);
  for (int i = 0; i < d.num_inputs; ++i) {
    const cnnc_io_desc &io = d.inputs[i];
    int target = io.tensor;
    if (const cnnc_augment_desc *a = augmentOfInput(i)) {
      cnnc_augmentation ranges =
          hyper->augmentation ? *hyper->augmentation : declaredAugmentation(*a);
      if (isIdentity(ranges)) {
        target = a->output;
        forwardEnabled[a->step] = 0;
      } else {
        drawAugmentationMaps(ranges, batch, io.h, io.w, stepSeed, m->trainSlots.data(a->maps));
        m->tensorToDevice(m->trainSlots, a->maps, batch);
      }
    }
    transposeEach(inputs[i], m->trainSlots.data(target), batch, io.c, io.h * io.w);
    m->tensorToDevice(m->trainSlots, target, batch);
  }
  for (int i = 0; i < d.num_dropouts; ++i) {
    const cnnc_dropout_desc &drop = d.dropouts[i];
    float keep = drop.p < 1 ? 1.0f / (1.0f - drop.p) : 0.0f;
    Random rng(stepSeed, drop.layer);
    float *mask = m->trainSlots.data(drop.mask);
    int64_t count = tensorElements(d.tensors[drop.mask]) * batch;
    for (int64_t e = 0; e < count; ++e)
      mask[e] = rng.uniform() < drop.p ? 0.0f : keep;
    m->tensorToDevice(m->trainSlots, drop.mask, batch);
  }
  m->runSteps(d.train_forward, d.num_train_forward, batch, m->trainSlots, &forwardEnabled);
  cnnc_train_result result{};
  auto runtimeStart = std::chrono::steady_clock::now();
  m->tensorToHost(m->trainSlots, d.loss_input, batch);
  crossEntropy(m->trainSlots.data(d.loss_input), m->trainSlots.data(d.loss_grad), labels, batch,
               classes, hyper->label_smoothing, result);
  m->tensorToDevice(m->trainSlots, d.loss_grad, batch);
  auto lossSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - runtimeStart).count();
  m->runSteps(d.backward, d.num_backward, batch, m->trainSlots, &m->backwardEnabled);
  runtimeStart = std::chrono::steady_clock::now();
  updateRunningStatistics(m, batch);
  if (m->device)
    deviceUpdate(m, *hyper);
  for (int p = 0; p < d.num_params && !m->device; ++p) {
    if (isBuffer(p) || m->frozen[p] || !m->receivesGradient[p])
      continue;
    if (hyper->optimizer == CNNC_OPTIMIZER_SGD)
      sgdUpdate(m, p, *hyper);
    else
      adamUpdate(m, p, *hyper);
  }
  m->prepared = false;
  ++m->trainSteps;
  if (m->profiling) {
    m->runtimeSeconds +=
        lossSeconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - runtimeStart).count();
    ++m->profiledTrainSteps;
  }
  if (out)
    *out = result;
}

const char *const kStateKinds[] = {"momentum_buffer", "exp_avg", "exp_avg_sq"};

// The largest step count a checkpoint may hold.
constexpr int64_t kMaxStepCount = int64_t(1) << 62;

FloatVector &stateOf(cnnc_model *m, int kind, int p) {
  return kind == 0 ? m->momentumBuffer[p] : kind == 1 ? m->expAvg[p] : m->expAvgSq[p];
}

} // namespace

namespace cnnc::rt {

void clearOptimizerState(cnnc_model *m, int param) {
  const cnnc_model_desc &d = desc();
  for (int p = 0; p < d.num_params; ++p) {
    if (param >= 0 && p != param)
      continue;
    for (int kind = 0; kind < 3; ++kind)
      stateOf(m, kind, p).clear();
    if (m->device)
      for (Space s : {Space::Momentum, Space::ExpAvg, Space::ExpAvgSq})
        m->device->forget(s, p);
    m->paramSteps[p] = 0;
  }
  if (param < 0)
    m->trainSteps = 0;
}

bool stageOptimizerEntry(cnnc_model *m, const SafetensorsEntry &e, const std::string &source,
                         OptimizerStaging &staging) {
  const std::string prefix = "optimizer.";
  if (e.name.compare(0, prefix.size(), prefix) != 0)
    return false;
  auto oneInt = [&](int64_t &value) {
    if (e.dtype != "I64" || e.bytes != 8)
      throw Failure(CNNC_ERROR_FORMAT, source + ": tensor '" + e.name + "' must be one I64 value");
    std::memcpy(&value, e.data, 8);
  };
  if (e.name == "optimizer.train_steps") {
    int64_t value;
    oneInt(value);
    staging.trainSteps = value;
    return true;
  }
  std::string rest = e.name.substr(prefix.size());
  size_t dot = rest.rfind('.');
  int p = dot == std::string::npos ? -1 : m->paramIndex(rest.substr(0, dot));
  std::string kind = dot == std::string::npos ? "" : rest.substr(dot + 1);
  if (p < 0)
    throw Failure(CNNC_ERROR_UNEXPECTED, source + ": optimizer state '" + e.name +
                                             "' names no parameter of " + desc().name);
  if (isBuffer(p))
    throw Failure(CNNC_ERROR_UNEXPECTED, source + ": optimizer state '" + e.name + "' names " +
                                             desc().params[p].name +
                                             ", a buffer that no optimizer updates");
  if (kind == "step") {
    int64_t value;
    oneInt(value);
    staging.steps.push_back({p, value});
    return true;
  }
  for (int k = 0; k < 3; ++k) {
    if (kind != kStateKinds[k])
      continue;
    const cnnc_param_desc &pd = desc().params[p];
    bool same = e.dtype == "F32" && static_cast<int>(e.shape.size()) == pd.rank;
    for (int i = 0; same && i < pd.rank; ++i)
      same = e.shape[i] == pd.shape[i];
    if (!same)
      throw Failure(CNNC_ERROR_SHAPE, source + ": optimizer state '" + e.name +
                                          "' must be F32 with the shape of its parameter");
    staging.tensors.push_back({p, k, &e});
    return true;
  }
  throw Failure(CNNC_ERROR_UNEXPECTED, source + ": unknown optimizer state '" + e.name + "'");
}

void checkOptimizerState(const OptimizerStaging &staging, const std::string &source) {
  const cnnc_model_desc &d = desc();
  const std::string limit = " (at most 2^62: no run takes more steps, and the next step's count "
                            "must not overflow)";
  if (staging.trainSteps && *staging.trainSteps < 0)
    throw Failure(CNNC_ERROR_FORMAT, source + ": optimizer.train_steps is negative (" +
                                         std::to_string(*staging.trainSteps) + ")");
  if (staging.trainSteps && *staging.trainSteps > kMaxStepCount)
    throw Failure(CNNC_ERROR_FORMAT, source + ": optimizer.train_steps is " +
                                         std::to_string(*staging.trainSteps) + limit);
  for (const auto &s : staging.steps) {
    std::string what =
        source + ": optimizer." + d.params[s.first].name + ".step is " + std::to_string(s.second);
    if (s.second < 1)
      throw Failure(CNNC_ERROR_FORMAT, what + ", an Adam step count starts at 1");
    if (s.second > kMaxStepCount)
      throw Failure(CNNC_ERROR_FORMAT, what + limit);
  }
  // Adam's second moment is a running mean of squares: a negative or NaN
  // value cannot come from training and turns the update into NaN.
  for (const auto &t : staging.tensors) {
    if (t.kind != 2)
      continue;
    size_t count = t.entry->bytes / sizeof(float);
    for (size_t i = 0; i < count; ++i) {
      float v;
      std::memcpy(&v, t.entry->data + i * sizeof(float), sizeof v);
      if (v >= 0.0f)
        continue;
      char value[32];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(v));
      throw Failure(CNNC_ERROR_FORMAT, source + ": " + t.entry->name + " has " + value + " at " +
                                           std::to_string(i) +
                                           ", a second moment is never negative or NaN");
    }
  }
  // Which of Adam's exp_avg, exp_avg_sq and step each parameter has: all
  // of them, or none (a parameter never updated, e.g. frozen, has none).
  const std::string adam[] = {kStateKinds[1], kStateKinds[2], "step"};
  std::vector<std::array<bool, 3>> held(d.num_params, {false, false, false});
  for (const auto &t : staging.tensors)
    if (t.kind > 0)
      held[t.param][t.kind - 1] = true;
  for (const auto &s : staging.steps)
    held[s.first][2] = true;
  for (int p = 0; p < d.num_params; ++p) {
    if (held[p][0] == held[p][1] && held[p][1] == held[p][2])
      continue;
    std::string prefix = std::string("optimizer.") + d.params[p].name + ".", have, lack;
    for (int k = 0; k < 3; ++k) {
      std::string &list = held[p][k] ? have : lack;
      list += (list.empty() ? "" : ", ") + prefix + adam[k];
    }
    throw Failure(CNNC_ERROR_MISSING, source + ": the Adam state of '" + d.params[p].name +
                                          "' is incomplete: " + have + " without " + lack);
  }
}

void applyOptimizerState(cnnc_model *m, const OptimizerStaging &staging) {
  if (staging.tensors.empty() && staging.steps.empty() && !staging.trainSteps)
    return;
  clearOptimizerState(m, -1);
  for (const auto &t : staging.tensors) {
    FloatVector &v = stateOf(m, t.kind, t.param);
    v.resize(t.entry->bytes / sizeof(float));
    std::memcpy(v.data(), t.entry->data, t.entry->bytes);
  }
  for (const auto &s : staging.steps)
    m->paramSteps[s.first] = s.second;
  if (staging.trainSteps)
    m->trainSteps = *staging.trainSteps;
}

void appendOptimizerState(cnnc_model *m, std::vector<TensorToWrite> &tensors) {
  const cnnc_model_desc &d = desc();
  for (int p = 0; p < d.num_params; ++p) {
    const cnnc_param_desc &pd = d.params[p];
    std::vector<int64_t> shape(pd.shape, pd.shape + pd.rank);
    for (int k = 0; k < 3; ++k) {
      FloatVector &v = stateOf(m, k, p);
      if (!v.empty())
        tensors.push_back({std::string("optimizer.") + pd.name + "." + kStateKinds[k], "F32", shape,
                           v.data(), v.size() * sizeof(float)});
    }
    if (!m->expAvg[p].empty())
      tensors.push_back(
          {std::string("optimizer.") + pd.name + ".step", "I64", {}, &m->paramSteps[p], 8});
  }
  tensors.push_back({"optimizer.train_steps", "I64", {}, &m->trainSteps, 8});
}

} // namespace cnnc::rt

extern "C" {

void cnnc_default_hyperparams(cnnc_hyperparams *h) {
  if (!h)
    return;
  *h = cnnc_hyperparams{};
  h->optimizer = CNNC_OPTIMIZER_SGD;
  h->learning_rate = 0.01f;
  h->beta1 = 0.9f;
  h->beta2 = 0.999f;
  h->epsilon = 1e-8f;
}

int32_t cnnc_can_train(const char **reason) {
  if (reason)
    *reason = desc().no_training;
  return desc().loss_input >= 0 ? 1 : 0;
}

cnnc_status cnnc_train_step(cnnc_model *model, int64_t batch, const float *const *inputs,
                            const int32_t *labels, const cnnc_hyperparams *hyper,
                            cnnc_train_result *result) {
  return guarded(model, [&] {
    model->requireParams();
    trainStep(model, batch, inputs, labels, hyper, result);
  });
}

cnnc_status cnnc_set_trainable(cnnc_model *model, const char *layer, int32_t trainable) {
  return guarded(model, [&] {
    if (!layer)
      throw Failure(CNNC_ERROR_ARGUMENT, "layer is null");
    const cnnc_model_desc &d = desc();
    bool any = false;
    for (int p = 0; p < d.num_params; ++p)
      if (!isBuffer(p) && inLayer(d.params[p].name, layer)) {
        model->frozen[p] = trainable ? 0 : 1;
        any = true;
      }
    if (!any)
      throw Failure(CNNC_ERROR_MISSING,
                    std::string("no trainable parameters in layer '") + layer + "'");
    model->backwardPlanned = false;
  });
}

cnnc_status cnnc_get_grad(cnnc_model *model, const char *name, float *data, size_t count) {
  return guarded(model, [&] {
    model->requireParams();
    FloatVector &p = model->param(name, data != nullptr, count);
    int index = model->paramIndex(name);
    if (model->grads.empty() || model->grads[index].empty() || model->frozen[index]) {
      std::fill(data, data + p.size(), 0.0f);
      return;
    }
    if (model->device)
      model->device->toHost(Space::Grad, index, model->grads[index].data(), count);
    std::memcpy(data, model->grads[index].data(), count * sizeof(float));
  });
}

int64_t cnnc_train_steps(const cnnc_model *model) { return model ? model->trainSteps : 0; }

int32_t cnnc_param_trainable(const cnnc_model *model, const char *name) {
  if (!model || !name)
    return -1;
  int p = model->paramIndex(name);
  if (p < 0)
    return -1;
  return isBuffer(p) || model->frozen[p] ? 0 : 1;
}

} // extern "C"
