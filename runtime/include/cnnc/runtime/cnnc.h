/* cnnc.h - the C interface of a model compiled by cnnc.
 *
 * Every model.so exports these functions; model.h is this header with the
 * model's shapes added. Conventions (docs/runtime-api.md):
 *  - activations are float32, NCHW (N x C for flat tensors), caller-owned;
 *    the batch size N is chosen per call;
 *  - parameters have PyTorch state_dict names and shapes;
 *  - every fallible call returns a cnnc_status; on failure the context keeps
 *    its previous state and cnnc_last_error() says what went wrong;
 *  - a context may be used by one thread at a time; several contexts may run
 *    in parallel. The library never aborts or exits.
 */
#ifndef CNNC_RUNTIME_CNNC_H
#define CNNC_RUNTIME_CNNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CNNC_BUILDING_RUNTIME)
#define CNNC_API __attribute__((visibility("default")))
#else
#define CNNC_API
#endif

typedef struct cnnc_model cnnc_model;

/* The enums are ints. In C++ they say so (a fixed underlying type), so that
 * the library may receive any int a C caller passes (an unknown value is an
 * error, CNNC_ERROR_ARGUMENT, not undefined behavior). */
#ifdef __cplusplus
#define CNNC_ENUM(name) enum name : int
#else
#define CNNC_ENUM(name) enum name
#endif

/* clang-format off */
typedef CNNC_ENUM(cnnc_status) {
  CNNC_OK = 0,
  CNNC_ERROR_ARGUMENT = 1,   /* a null pointer, a bad index or batch size */
  CNNC_ERROR_SHAPE = 2,      /* a tensor has the wrong shape or size */
  CNNC_ERROR_IO = 3,         /* a file cannot be opened, read or written */
  CNNC_ERROR_FORMAT = 4,     /* a file is malformed or truncated */
  CNNC_ERROR_MISSING = 5,    /* a tensor the model needs is absent */
  CNNC_ERROR_UNEXPECTED = 6, /* a tensor the model does not have */
  CNNC_ERROR_MEMORY = 7,     /* an allocation failed */
  CNNC_ERROR_RUNTIME = 8,    /* a generated pipeline reported an error */
  CNNC_ERROR_RELEASED = 9    /* the context's parameters were released (inference only) */
} cnnc_status;
/* clang-format on */

/* Flags of cnnc_load_weights. */
#define CNNC_LOAD_STRICT 0u        /* every parameter present, nothing else */
#define CNNC_LOAD_ALLOW_MISSING 1u /* absent parameters keep their values */
#define CNNC_LOAD_ALLOW_EXTRA 2u   /* unknown tensors are ignored */

/* Flags of cnnc_tensor_info for parameters. */
#define CNNC_PARAM_BUFFER 1 /* running statistics, not trained */
#define CNNC_PARAM_FROZEN 2 /* declared frozen in the .cnn file */

typedef struct cnnc_tensor_info {
  const char *name;
  int32_t rank;    /* number of entries of dims used */
  int64_t dims[4]; /* inputs and outputs: per sample (C,H,W or C) */
  int32_t flags;   /* parameters: CNNC_PARAM_* */
} cnnc_tensor_info;

/* A short constant name of a status ("ok", "shape error", ...). */
CNNC_API const char *cnnc_status_string(cnnc_status status);

/* The network's name and the Halide target the code was generated for. */
CNNC_API const char *cnnc_model_name(void);
CNNC_API const char *cnnc_model_target(void);
/* Where the generated steps run: "cpu", "cuda" or "opencl". Callers pass
 * host buffers either way; a GPU context keeps its arrays on the device
 * (docs/gpu.md). */
CNNC_API const char *cnnc_model_device(void);

CNNC_API int32_t cnnc_num_inputs(void);
CNNC_API int32_t cnnc_num_outputs(void);
CNNC_API int32_t cnnc_num_params(void);
CNNC_API cnnc_status cnnc_input_info(int32_t index, cnnc_tensor_info *info);
CNNC_API cnnc_status cnnc_output_info(int32_t index, cnnc_tensor_info *info);
CNNC_API cnnc_status cnnc_param_info(int32_t index, cnnc_tensor_info *info);

/* Creates a context with parameters initialized from seed 0 (or with the
 * weights embedded by `cnnc --embed-weights`). *model is NULL on failure. */
CNNC_API cnnc_status cnnc_create(cnnc_model **model);
CNNC_API void cnnc_destroy(cnnc_model *model);

/* The message of the last failed call on `model` ("" if none); with NULL,
 * why the last cnnc_create on this thread failed. The pointer stays valid
 * until the next call on the context (on the thread). */
CNNC_API const char *cnnc_last_error(const cnnc_model *model);

/* PyTorch's default initialization (conv and dense: U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) for weight and bias; batchnorm: weight 1, bias 0, running
 * mean 0, running variance 1), drawn from a generator seeded with `seed`. */
CNNC_API cnnc_status cnnc_init_params(cnnc_model *model, uint64_t seed);

/* Other initializations of conv and dense weights (biases 0, batchnorm as
 * above), with fan_in = in_channels / groups x kh x kw (dense: in_features) and
 * fan_out = out_channels x kh x kw (dense: units):
 *  CNNC_INIT_KAIMING_NORMAL  N(0, 2 / fan_out), torchvision's ResNet/VGG init
 *                            (kaiming_normal_, mode fan_out, relu);
 *  CNNC_INIT_KAIMING_UNIFORM U(-b, b), b = sqrt(6 / fan_in) (kaiming_uniform_, relu);
 *  CNNC_INIT_XAVIER_UNIFORM  U(-b, b), b = sqrt(6 / (fan_in + fan_out));
 *  CNNC_INIT_XAVIER_NORMAL   N(0, 2 / (fan_in + fan_out)).
 * CNNC_INIT_PYTORCH_DEFAULT is cnnc_init_params. */
/* clang-format off */
typedef CNNC_ENUM(cnnc_init_scheme) {
  CNNC_INIT_PYTORCH_DEFAULT = 0,
  CNNC_INIT_KAIMING_NORMAL = 1,
  CNNC_INIT_KAIMING_UNIFORM = 2,
  CNNC_INIT_XAVIER_UNIFORM = 3,
  CNNC_INIT_XAVIER_NORMAL = 4
} cnnc_init_scheme;
/* clang-format on */
CNNC_API cnnc_status cnnc_init_params_with(cnnc_model *model, uint64_t seed,
                                           cnnc_init_scheme scheme);

/* safetensors files with state_dict names, float32. Loading validates the
 * whole file before changing anything; `num_batches_tracked` entries are
 * accepted. Saving writes a temporary file and renames it over `path`; a
 * `path` that exists and is not a regular file (a device, a pipe, a
 * directory) is refused with CNNC_ERROR_IO. */
CNNC_API cnnc_status cnnc_load_weights(cnnc_model *model, const char *path, uint32_t flags);
CNNC_API cnnc_status cnnc_load_weights_from_memory(cnnc_model *model, const void *data, size_t size,
                                                   uint32_t flags);
CNNC_API cnnc_status cnnc_save_weights(cnnc_model *model, const char *path);

/* Copies one parameter out of / into the context; `count` must equal its
 * number of elements. */
CNNC_API cnnc_status cnnc_get_param(cnnc_model *model, const char *name, float *data, size_t count);
CNNC_API cnnc_status cnnc_set_param(cnnc_model *model, const char *name, const float *data,
                                    size_t count);

/* The largest batch one call takes (larger ones fail with
 * CNNC_ERROR_ARGUMENT); cnnc_forward runs large batches in chunks. */
#define CNNC_MAX_BATCH (INT64_C(1) << 30)

/* Runs the network (inference: batchnorm uses running statistics, dropout is
 * the identity) on `batch` samples. inputs[i] holds batch x input i's dims,
 * outputs[i] receives batch x output i's dims. */
CNNC_API cnnc_status cnnc_forward(cnnc_model *model, int64_t batch, const float *const *inputs,
                                  float *const *outputs);

/* Makes the context inference-only, for applications that load weights once
 * and then only call cnnc_forward: prepares the weights as inference reads
 * them (filters packed, batchnorm folded) and frees the state_dict copy of
 * every parameter that inference does not read directly, and any training
 * state. The process then holds about one copy of the weights instead of two
 * (the call itself briefly needs both). Afterwards cnnc_forward and the
 * queries work as before; calls that read or change parameters (init, load,
 * save, get/set, reinit, train, gradients) fail with CNNC_ERROR_RELEASED.
 * Calling it again does nothing. On failure nothing is freed. */
CNNC_API cnnc_status cnnc_release_params(cnnc_model *model);

/* ---- Training (docs/training.md) ---------------------------------------- */

/* clang-format off */
typedef CNNC_ENUM(cnnc_optimizer) {
  CNNC_OPTIMIZER_SGD = 0,  /* torch.optim.SGD: momentum, dampening, nesterov, weight_decay */
  CNNC_OPTIMIZER_ADAM = 1, /* torch.optim.Adam: weight_decay added to the gradient (L2) */
  CNNC_OPTIMIZER_ADAMW = 2 /* torch.optim.AdamW: decoupled weight decay */
} cnnc_optimizer;
/* clang-format on */

/* Random data augmentation of an image input in training: each sample is
 * warped by an affine map about the image center (shift, rotation, shear,
 * zoom, optional mirror), sampled bilinearly with zeros outside. Each value
 * is drawn uniformly per sample: a shift in [-translate_x, translate_x] x W
 * and [-translate_y, translate_y] x H pixels, a rotation in [-rotate,
 * rotate] and a horizontal shear in [-shear, shear] degrees, a zoom in
 * [scale_min, scale_max], and with `flip` a mirror with probability 1/2.
 * All zero with scale 1..1 is no augmentation. Ranges: translate in [0, 1],
 * rotate in [0, 180], shear in [0, 80), 0 < scale_min <= scale_max <= 10. */
typedef struct cnnc_augmentation {
  float translate_x, translate_y;
  float rotate, shear;
  float scale_min, scale_max;
  int32_t flip;
} cnnc_augmentation;

/* The ranges an `augment` layer of the .cnn file declares for input `input`
 * (none declared: no augmentation). CNNC_ERROR_MISSING when the input is not
 * an image or the model has no training step. */
CNNC_API cnnc_status cnnc_declared_augmentation(int32_t input, cnnc_augmentation *out);

/* Draws the augmentation maps of `batch` samples of `height` x `width`: 6
 * floats per sample, the inverse map from an output pixel (x, y) to the
 * input point it samples: (m0 x + m1 y + m2, m3 x + m4 y + m5), pixel
 * centers at integers. The draws depend only on `seed` and the sample index,
 * not on the image size. Training step t (cnnc_train_steps before it)
 * draws with seed = hyper.seed ^ (0x9e3779b97f4a7c15 * (t + 1)). */
CNNC_API cnnc_status cnnc_augmentation_maps(const cnnc_augmentation *augmentation, int64_t batch,
                                            int64_t height, int64_t width, uint64_t seed,
                                            float *maps);

/* Applies the model's generated warp to `batch` images of input `input`
 * (N x C x H x W in, the same out) with the given maps (6 floats per
 * sample, as cnnc_augmentation_maps makes them). */
CNNC_API cnnc_status cnnc_augment(cnnc_model *model, int32_t input, int64_t batch,
                                  const float *images, const float *maps, float *out);

/* The hyperparameters of one training step; cnnc_default_hyperparams fills
 * PyTorch's defaults (SGD lr 0.01 without momentum; Adam betas 0.9, 0.999,
 * eps 1e-8). They may change from one step to the next (schedules). */
typedef struct cnnc_hyperparams {
  cnnc_optimizer optimizer;
  float learning_rate;
  float momentum;              /* SGD */
  float dampening;             /* SGD */
  int32_t nesterov;            /* SGD: nonzero for Nesterov momentum */
  float weight_decay;          /* SGD, Adam: L2 added to the gradient; AdamW: decoupled */
  float beta1, beta2, epsilon; /* Adam, AdamW */
  float label_smoothing;       /* of the cross-entropy, in [0, 1) */
  uint64_t seed;               /* of dropout masks and augmentation (with the step count) */
  /* NULL: augment as the .cnn file's `augment` layers declare; otherwise
   * these ranges for every image input (all zero: none). */
  const cnnc_augmentation *augmentation;
} cnnc_hyperparams;
CNNC_API void cnnc_default_hyperparams(cnnc_hyperparams *hyper);

/* What a training step measured on its batch, before the update. */
typedef struct cnnc_train_result {
  float loss;      /* mean softmax cross-entropy over the batch */
  int64_t correct; /* samples whose largest logit is their label */
} cnnc_train_result;

/* One training step on `batch` samples: the forward pass in training mode
 * (batchnorm on batch statistics, updating the running statistics as
 * PyTorch does; dropout masks), the softmax cross-entropy of the first
 * output against labels[batch] (class indices; a softmax ending the network
 * is folded into the loss), the gradient of every trainable parameter, and
 * the optimizer's update of them in place. `result` may be NULL. Fails with
 * CNNC_ERROR_ARGUMENT for a label outside [0, classes). */
CNNC_API cnnc_status cnnc_train_step(cnnc_model *model, int64_t batch, const float *const *inputs,
                                     const int32_t *labels, const cnnc_hyperparams *hyper,
                                     cnnc_train_result *result);

/* The gradient of parameter `name` computed by the last training step
 * (before the optimizer's weight decay; zeros before any step and for
 * frozen parameters). `count` must equal its number of elements. */
CNNC_API cnnc_status cnnc_get_grad(cnnc_model *model, const char *name, float *data, size_t count);

/* Whether the model has a training step (1) or not (0, then
 * cnnc_last_error-style text in *reason, e.g. a network whose first output
 * is not N x classes). */
CNNC_API int32_t cnnc_can_train(const char **reason);

/* Freezes (trainable = 0) or unfreezes the parameters of layer `layer` (its
 * parameters are named "layer.*"; "" selects every layer). Frozen parameters
 * get no gradient computation and no update; layers declared `frozen: true`
 * start frozen. Running statistics are buffers and keep being updated by
 * batchnorm layers in training mode, as in PyTorch. Returns
 * CNNC_ERROR_MISSING when no parameter matches. */
CNNC_API cnnc_status cnnc_set_trainable(cnnc_model *model, const char *layer, int32_t trainable);
/* 1 if parameter `name` is trained, 0 if frozen or a buffer, -1 if unknown. */
CNNC_API int32_t cnnc_param_trainable(const cnnc_model *model, const char *name);

/* Re-initializes the parameters of layer `layer` (as cnnc_init_params_with)
 * and clears their optimizer state: a new head on a loaded body. */
CNNC_API cnnc_status cnnc_reinit_layer(cnnc_model *model, const char *layer, uint64_t seed,
                                       cnnc_init_scheme scheme);

/* A checkpoint: the weights (as cnnc_save_weights) plus the optimizer state
 * ("optimizer.<param>.momentum_buffer", ".exp_avg", ".exp_avg_sq", ".step"
 * and "optimizer.train_steps"), written atomically. cnnc_load_weights reads
 * both kinds of files and restores the optimizer state it finds, so that
 * training resumes exactly. */
CNNC_API cnnc_status cnnc_save_checkpoint(cnnc_model *model, const char *path);

/* Training steps taken since initialization (restored by loading a
 * checkpoint). */
CNNC_API int64_t cnnc_train_steps(const cnnc_model *model);

/* Threads of this model library's worker pool (default: one per core). */
CNNC_API void cnnc_set_num_threads(int32_t threads);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_RUNTIME_CNNC_H */
