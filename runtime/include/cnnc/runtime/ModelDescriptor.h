/* ModelDescriptor.h - the tables that cnnc generates for each model.
 *
 * The generated glue of a model.so defines one `cnnc_model_descriptor`; the
 * runtime (runtime/lib/Model.cpp) implements the C interface of cnnc.h on top
 * of it: it allocates the tensors, runs the prepare steps when parameters
 * change and the forward steps in order. Halide dimension order (innermost
 * first) throughout: an activation buffer is (c, x, y, n), channels
 * innermost; a parameter's dims are its PyTorch shape reversed.
 */
#ifndef CNNC_RUNTIME_MODELDESCRIPTOR_H
#define CNNC_RUNTIME_MODELDESCRIPTOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNNC_DESCRIPTOR_VERSION 6

struct halide_device_interface_t;

/* A Halide AOT function in its argv form: buffers in step argument order. */
typedef int (*cnnc_pipeline_fn)(void **args);

/* GRAD: the gradient of parameter `index`, same shape as the parameter. */
enum { CNNC_ARG_TENSOR = 0, CNNC_ARG_PARAM = 1, CNNC_ARG_DERIVED = 2, CNNC_ARG_GRAD = 3 };
/* CONSTANT: every element init_value (nn.PReLU's slope, ConvNeXt's layer scale). */
enum {
  CNNC_INIT_WEIGHT = 0,
  CNNC_INIT_BIAS = 1,
  CNNC_INIT_ONES = 2,
  CNNC_INIT_ZEROS = 3,
  CNNC_INIT_CONSTANT = 4
};

/* A tensor with `storage` >= 0 has no buffer of its own: it is channels
 * [channel_offset, channel_offset + c) of tensor `storage` (a concat written
 * in place), whose pixels are storage's c floats apart. */
typedef struct cnnc_tensor_desc {
  const char *name;
  int32_t rank; /* 2 (N x C) or 4 (N x C x H x W) as the network sees it */
  int64_t c, h, w;
  int32_t storage; /* -1: its own buffer */
  int64_t channel_offset;
} cnnc_tensor_desc;

typedef struct cnnc_param_desc {
  const char *name;
  int32_t rank;
  int64_t shape[4]; /* PyTorch order */
  int32_t flags;    /* CNNC_PARAM_* of cnnc.h */
  int32_t init;     /* CNNC_INIT_* */
  int64_t fan_in;
  float init_value; /* CNNC_INIT_CONSTANT's value */
} cnnc_param_desc;

typedef struct cnnc_derived_desc {
  const char *name;
  int32_t rank;
  int64_t dims[4]; /* Halide order */
} cnnc_derived_desc;

typedef struct cnnc_arg_desc {
  int32_t kind; /* CNNC_ARG_* */
  int32_t index;
} cnnc_arg_desc;

typedef struct cnnc_step_desc {
  const char *function; /* generated function, for messages */
  const char *layers;   /* the fused layers, for messages and profiles */
  cnnc_pipeline_fn fn;
  int32_t num_inputs, num_outputs;
  const cnnc_arg_desc *args; /* inputs, then outputs */
} cnnc_step_desc;

typedef struct cnnc_io_desc {
  const char *name;
  int32_t tensor;
  int32_t rank; /* 2 or 4, including the batch */
  int64_t c, h, w;
} cnnc_io_desc;

/* A dropout of the training step: the runtime fills tensor `mask` with 0 or
 * 1 / (1 - p) before each training forward pass. */
typedef struct cnnc_dropout_desc {
  const char *layer;
  int32_t mask;
  float p;
} cnnc_dropout_desc;

/* The augmentation of a network input in the training step: train_forward
 * step `step` warps the input's tensor into tensor `output` by the maps the
 * runtime writes into tensor `maps` (6 floats per sample). The ranges are the
 * .cnn file's (translate 0, rotate 0, shear 0, scale 1..1, flip 0: none).
 * With augmentation off the runtime skips the step and writes the batch
 * straight into `output`. */
typedef struct cnnc_augment_desc {
  const char *layer;
  int32_t input; /* index into inputs */
  int32_t step;  /* index into train_forward */
  int32_t maps, output;
  float translate_x, translate_y, rotate, shear, scale_min, scale_max;
  int32_t flip;
} cnnc_augment_desc;

/* A batchnorm of the training step: its BatchNormTrain step writes the
 * batch's mean and biased variance (derived buffers), from which the runtime
 * updates the running statistics (params) as PyTorch does. */
typedef struct cnnc_batch_stats_desc {
  const char *layer;
  int32_t batch_mean, batch_var;     /* derived */
  int32_t running_mean, running_var; /* params */
  float momentum;
  int64_t pixels; /* H x W of the normalized tensor */
} cnnc_batch_stats_desc;

/* The optimizer's update on the device, for a model compiled for a GPU
 * (NULL members on the CPU, where the runtime updates the host arrays
 * itself). Each is an argv pipeline over 1-D buffers of one parameter's n
 * floats, updating them in place (each output is the input of the same
 * name), and the parameter's row of CNNC_HYPER_COUNT hyperparameters. */
typedef struct cnnc_device_optimizer {
  cnnc_pipeline_fn sgd;          /* (w, g, hyper) -> (w) */
  cnnc_pipeline_fn sgd_momentum; /* (w, g, momentum_buffer, hyper) -> (w, momentum_buffer) */
  cnnc_pipeline_fn adam; /* (w, g, exp_avg, exp_avg_sq, hyper) -> (w, exp_avg, exp_avg_sq) */
} cnnc_device_optimizer;

/* A row of hyperparameters of cnnc_device_optimizer, by index. SGD:
 * w -= lr * d, d = g + weight_decay * w, with momentum buf = first ? d :
 * momentum * buf + (1 - dampening) * d and d = nesterov ? d + momentum *
 * buf : buf. Adam: d = g + l2 * w; w *= decay; the averages; w -= step_size *
 * exp_avg / (sqrt(exp_avg_sq) / correction2_sqrt + epsilon). */
enum {
  CNNC_HYPER_LR = 0,
  CNNC_HYPER_WEIGHT_DECAY = 1,
  CNNC_HYPER_MOMENTUM = 2,
  CNNC_HYPER_DAMPENING = 3,
  CNNC_HYPER_NESTEROV = 4, /* 0 or 1 */
  CNNC_HYPER_FIRST = 5,    /* 1 on the step that creates the momentum buffer */
  CNNC_HYPER_BETA1 = 6,
  CNNC_HYPER_BETA2 = 7,
  CNNC_HYPER_EPSILON = 8,
  CNNC_HYPER_L2 = 9,
  CNNC_HYPER_DECAY = 10,
  CNNC_HYPER_STEP_SIZE = 11,
  CNNC_HYPER_CORRECTION2_SQRT = 12,
  CNNC_HYPER_COUNT = 16
};

typedef struct cnnc_model_desc {
  int32_t version;
  const char *name;
  const char *target;
  int32_t num_tensors;
  const cnnc_tensor_desc *tensors;
  int32_t num_params;
  const cnnc_param_desc *params;
  int32_t num_derived;
  const cnnc_derived_desc *derived;
  int32_t num_inputs;
  const cnnc_io_desc *inputs;
  int32_t num_outputs;
  const cnnc_io_desc *outputs;
  int32_t num_prepare;
  const cnnc_step_desc *prepare;
  int32_t num_steps;
  const cnnc_step_desc *steps;
  const unsigned char *embedded_weights; /* safetensors bytes, or NULL */
  uint64_t embedded_weights_size;
  /* The training step (loss_input < 0: none, `no_training` says why). */
  const char *no_training;
  int32_t num_train_prepare;
  const cnnc_step_desc *train_prepare;
  int32_t num_train_forward;
  const cnnc_step_desc *train_forward;
  int32_t num_backward;
  const cnnc_step_desc *backward;
  int32_t loss_input, loss_grad; /* tensors: logits (N x classes) and d(loss)/d(logits) */
  int32_t num_dropouts;
  const cnnc_dropout_desc *dropouts;
  int32_t num_batch_stats;
  const cnnc_batch_stats_desc *batch_stats;
  int32_t num_augments;
  const cnnc_augment_desc *augments;
  /* The GPU API the steps run on ("cuda", "opencl"; "" for the CPU) and its
   * Halide runtime interface (NULL for the CPU). Callers still pass host
   * buffers; the runtime keeps every array on the device (DeviceMemory.h). */
  const char *device;
  const struct halide_device_interface_t *(*device_interface)(void);
  cnnc_device_optimizer device_optimizer;
} cnnc_model_desc;

/* Defined by the generated glue of each model. */
extern const cnnc_model_desc cnnc_model_descriptor;

#ifdef __cplusplus
}
#endif

#endif /* CNNC_RUNTIME_MODELDESCRIPTOR_H */
