//===- ModelWeightsFuzzer.cpp - libFuzzer target: weights into a real model ===//
//
// Each input is a weights or checkpoint file loaded with
// cnnc_load_weights_from_memory into a fresh context of the model compiled
// from test/fuzz/model.cnn (linked in as cnnc --emit=object makes it), first
// strictly and then with missing and extra tensors allowed. A load that fails
// must say why and leave every parameter and the optimizer's state as they
// were (a training step then equals a fresh context's); a load that succeeds
// must leave a consistent state: a forward pass and a training step (SGD
// with momentum, Adam or AdamW, chosen by the input's size) then succeed. Anything else, and any
// sanitizer report, is a finding.
//
//===----------------------------------------------------------------------===//
#include "cnnc/runtime/cnnc.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void finding(const char *what, cnnc_model *model) {
  std::fprintf(stderr, "ModelWeightsFuzzer: %s (last error: %s)\n", what,
               model ? cnnc_last_error(model) : "-");
  __builtin_trap();
}

void check(bool ok, const char *what, cnnc_model *model) {
  if (!ok)
    finding(what, model);
}

// Every parameter and buffer, in declaration order, and the step count.
std::vector<float> snapshot(cnnc_model *model) {
  std::vector<float> all;
  for (int32_t i = 0; i < cnnc_num_params(); ++i) {
    cnnc_tensor_info info;
    check(cnnc_param_info(i, &info) == CNNC_OK, "cnnc_param_info failed", model);
    size_t count = 1;
    for (int32_t d = 0; d < info.rank; ++d)
      count *= static_cast<size_t>(info.dims[d]);
    size_t at = all.size();
    all.resize(at + count);
    check(cnnc_get_param(model, info.name, all.data() + at, count) == CNNC_OK,
          "cnnc_get_param failed", model);
  }
  all.push_back(static_cast<float>(cnnc_train_steps(model)));
  return all;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void forwardAndStep(cnnc_model *model, size_t size) {
  constexpr int64_t kBatch = 2;
  std::vector<std::vector<float>> inputs(static_cast<size_t>(cnnc_num_inputs()));
  std::vector<const float *> inputPointers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    cnnc_tensor_info info;
    check(cnnc_input_info(static_cast<int32_t>(i), &info) == CNNC_OK, "cnnc_input_info", model);
    size_t count = kBatch;
    for (int32_t d = 0; d < info.rank; ++d)
      count *= static_cast<size_t>(info.dims[d]);
    inputs[i].resize(count);
    for (size_t k = 0; k < count; ++k)
      inputs[i][k] = static_cast<float>(k % 7) * 0.25f - 0.75f;
    inputPointers.push_back(inputs[i].data());
  }
  cnnc_tensor_info out;
  check(cnnc_output_info(0, &out) == CNNC_OK, "cnnc_output_info", model);
  std::vector<float> logits(static_cast<size_t>(kBatch * out.dims[0]));
  float *outputs[] = {logits.data()};
  check(cnnc_forward(model, kBatch, inputPointers.data(), outputs) == CNNC_OK,
        "forward failed after a successful load", model);
  cnnc_hyperparams hyper;
  cnnc_default_hyperparams(&hyper);
  hyper.optimizer = static_cast<cnnc_optimizer>(size % 3);
  hyper.momentum = 0.9f;
  int32_t labels[kBatch] = {0, 2};
  cnnc_train_result result;
  check(cnnc_train_step(model, kBatch, inputPointers.data(), labels, &hyper, &result) == CNNC_OK,
        "training step failed after a successful load", model);
}

} // namespace

// One worker thread, so that two contexts given the same calls compute the
// same bits.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  cnnc_set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A private copy, so that ASan sees reads past the end of the input.
  std::vector<uint8_t> bytes(data, data + size);
  cnnc_model *model = nullptr;
  check(cnnc_create(&model) == CNNC_OK, "cnnc_create failed", nullptr);
  check(cnnc_init_params(model, 1) == CNNC_OK, "cnnc_init_params failed", model);
  std::vector<float> before = snapshot(model);
  bool loaded = false;
  for (uint32_t flags : {CNNC_LOAD_STRICT, CNNC_LOAD_ALLOW_MISSING | CNNC_LOAD_ALLOW_EXTRA}) {
    cnnc_status status = cnnc_load_weights_from_memory(model, bytes.data(), bytes.size(), flags);
    if (status == CNNC_OK) {
      loaded = true;
      break;
    }
    check(cnnc_last_error(model)[0] != '\0', "a failed load without a message", model);
    check(sameBits(before, snapshot(model)), "a failed load changed a parameter", model);
  }
  forwardAndStep(model, size);
  if (loaded) {
    // What was accepted once is accepted again, in the state it produced.
    check(cnnc_load_weights_from_memory(model, bytes.data(), bytes.size(),
                                        CNNC_LOAD_ALLOW_MISSING | CNNC_LOAD_ALLOW_EXTRA) == CNNC_OK,
          "a second load of accepted bytes failed", model);
  } else {
    // The optimizer state is not readable through the API: a training step
    // shows it. After failed loads, the step must equal a fresh context's.
    cnnc_model *reference = nullptr;
    check(cnnc_create(&reference) == CNNC_OK, "cnnc_create failed", nullptr);
    check(cnnc_init_params(reference, 1) == CNNC_OK, "cnnc_init_params failed", reference);
    forwardAndStep(reference, size);
    check(sameBits(snapshot(reference), snapshot(model)),
          "a failed load changed the optimizer state", model);
    cnnc_destroy(reference);
  }
  cnnc_destroy(model);
  return 0;
}
