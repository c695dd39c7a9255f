//===- Api.h - cnnrun's view of a model library -----------------*- C++ -*-===//
#ifndef CNNC_TOOLS_CNNRUN_API_H
#define CNNC_TOOLS_CNNRUN_API_H

#include "cnnc/runtime/cnnc.h"

#include <dlfcn.h>
#include <string>
#include <type_traits>
#include <vector>

/// Every function of the C interface that cnnrun calls.
#define CNNRUN_API_FUNCTIONS(X)                                                                    \
  X(cnnc_status_string)                                                                            \
  X(cnnc_model_name)                                                                               \
  X(cnnc_model_target)                                                                             \
  X(cnnc_model_device)                                                                             \
  X(cnnc_num_inputs)                                                                               \
  X(cnnc_num_outputs)                                                                              \
  X(cnnc_num_params)                                                                               \
  X(cnnc_input_info)                                                                               \
  X(cnnc_output_info)                                                                              \
  X(cnnc_param_info)                                                                               \
  X(cnnc_create)                                                                                   \
  X(cnnc_destroy)                                                                                  \
  X(cnnc_last_error)                                                                               \
  X(cnnc_init_params)                                                                              \
  X(cnnc_init_params_with)                                                                         \
  X(cnnc_load_weights)                                                                             \
  X(cnnc_save_weights)                                                                             \
  X(cnnc_forward)                                                                                  \
  X(cnnc_release_params)                                                                           \
  X(cnnc_set_num_threads)                                                                          \
  X(cnnc_train_step)                                                                               \
  X(cnnc_default_hyperparams)                                                                      \
  X(cnnc_can_train)                                                                                \
  X(cnnc_set_trainable)                                                                            \
  X(cnnc_reinit_layer)                                                                             \
  X(cnnc_save_checkpoint)                                                                          \
  X(cnnc_train_steps)                                                                              \
  X(cnnc_declared_augmentation)

namespace CLI {
class Validator;
}

namespace cnnrun {

/// False (and why) when `path` is shorter than its ELF headers say, which
/// dlopen would map and die on (LibraryFile.cpp).
bool checkLibraryFile(const std::string &path, std::string &error);

/// The C interface, resolved from the library.
struct Api {
  void *handle = nullptr;
#define CNNC_FN(name) decltype(&::name) name = nullptr;
  CNNRUN_API_FUNCTIONS(CNNC_FN)
#undef CNNC_FN

  bool open(const std::string &path, std::string &error) {
    std::string p = path.find('/') == std::string::npos ? "./" + path : path;
    if (!checkLibraryFile(p, error))
      return false;
    handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      error = dlerror();
      return false;
    }
    bool ok = true;
    auto get = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      if (!fn) {
        error = std::string("'") + path + "' is not a cnnc model: it lacks " + name;
        ok = false;
      }
    };
#define CNNC_GET(name) get(name, #name);
    CNNRUN_API_FUNCTIONS(CNNC_GET)
#undef CNNC_GET
    return ok;
  }
};

struct Failed {
  std::string message;
};

inline int64_t elements(const cnnc_tensor_info &info) {
  int64_t n = 1;
  for (int i = 0; i < info.rank; ++i)
    n *= info.dims[i];
  return n;
}

inline std::string dimsText(const cnnc_tensor_info &info) {
  std::string s;
  for (int i = 0; i < info.rank; ++i)
    s += (i ? "x" : "") + std::to_string(info.dims[i]);
  return s;
}

/// Zeroed room for `batch` samples of `perSample` values of `what`, or a
/// Failed that says how much a too large batch would need (never a bare
/// std::bad_alloc, never an overflowed size).
std::vector<float> batchBuffer(int64_t batch, int64_t perSample, const std::string &what);

/// The whole number `text` of option `option`, in [low, high], or a Failed
/// naming the option (not std::stoll's "stoll").
int64_t parseWholeNumber(const std::string &text, const std::string &option, int64_t low,
                         int64_t high);

/// Checks of an option's value for the option parser, whose messages name
/// the value and the range (CLI11 prefixes the option's name); the value
/// is converted only once it passed.
CLI::Validator wholeNumberIn(int64_t low, int64_t high);
CLI::Validator finiteAtLeast(double low);

/// A model context that loads or initializes its weights.
struct Session {
  Api &api;
  cnnc_model *model = nullptr;

  /// Without --weights or --seed the context keeps what cnnc_create gave it:
  /// embedded weights, or the initialization from seed 0.
  Session(Api &api, const std::string &weights, const uint64_t *seed, cnnc_init_scheme scheme)
      : api(api) {
    if (api.cnnc_create(&model) != CNNC_OK)
      throw Failed{std::string("cannot create the model: ") + api.cnnc_last_error(nullptr)};
    try {
      if (!weights.empty())
        check(api.cnnc_load_weights(model, weights.c_str(), CNNC_LOAD_STRICT));
      else if (seed)
        check(api.cnnc_init_params_with(model, *seed, scheme));
    } catch (...) {
      api.cnnc_destroy(model); // no destructor runs for a constructor that throws
      throw;
    }
  }
  ~Session() { api.cnnc_destroy(model); }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  void check(cnnc_status s) {
    if (s != CNNC_OK)
      throw Failed{std::string(api.cnnc_status_string(s)) + ": " + api.cnnc_last_error(model)};
  }

  cnnc_tensor_info input() {
    if (api.cnnc_num_inputs() != 1 || api.cnnc_num_outputs() < 1)
      throw Failed{"cnnrun drives models with one input"};
    cnnc_tensor_info info;
    api.cnnc_input_info(0, &info);
    return info;
  }

  /// The model's classes: the values per sample of the first output (what
  /// predict ranks and the training loss reads).
  int64_t classes() {
    cnnc_tensor_info info;
    api.cnnc_output_info(0, &info);
    return elements(info);
  }

  /// Runs `batch` samples; returns the first output.
  std::vector<float> forward(const float *data, int64_t batch) {
    std::vector<std::vector<float>> outs(api.cnnc_num_outputs());
    std::vector<float *> outPtrs;
    for (int i = 0; i < api.cnnc_num_outputs(); ++i) {
      cnnc_tensor_info info;
      api.cnnc_output_info(i, &info);
      outs[i] = batchBuffer(batch, elements(info), info.name);
      outPtrs.push_back(outs[i].data());
    }
    const float *in[] = {data};
    check(api.cnnc_forward(model, batch, in, outPtrs.data()));
    return outs[0];
  }
};

/// `cnnrun train` (Train.cpp).
struct TrainOptions {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 5;
  int64_t batch = 64;
  int64_t limit = -1;
  std::string optimizer = "sgd";
  bool learningRateGiven = false; ///< else the optimizer's default
  float learningRate = 0, momentum = 0.9f, weightDecay = 0, labelSmoothing = 0;
  bool nesterov = false;
  float mean = 0, stdev = 1;
  uint64_t seed = 0;
  std::string log, checkpoint, output;
  bool resume = false;
  std::vector<std::string> freeze, reinit;
  int earlyStop = 0;
  // Augmentation: any of these replaces the .cnn file's `augment` ranges.
  std::vector<float> translate, scale; ///< one value (both axes / a fixed zoom) or two
  float rotate = 0, shear = 0;
  bool flip = false, noAugment = false;
};
int train(Api &api, Session &session, const TrainOptions &options);

} // namespace cnnrun

#endif // CNNC_TOOLS_CNNRUN_API_H
