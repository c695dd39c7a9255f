//===- Dataset.cpp - cnnrun's IDX images and labels ------------------------===//
#include "Dataset.h"
#include "Api.h"
#include "cnnc/runtime/Idx.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cnnrun {

IdxImages readIdxImages(const std::string &path, const cnnc_tensor_info &input, int64_t limit) {
  cnnc::rt::IdxArray a;
  std::string error;
  if (!cnnc::rt::readIdx(path, a, error))
    throw Failed{error};
  // readIdx checks that the values are there: dims[0] x the rest.
  int64_t count = a.dims[0], perSample = 1;
  for (size_t d = 1; d < a.dims.size(); ++d)
    perSample *= a.dims[d];
  if (count == 0)
    throw Failed{"'" + path + "' holds no images"};
  if (perSample != elements(input))
    throw Failed{"'" + path + "' holds samples of " + std::to_string(perSample) +
                 " values, the model's input " + std::string(input.name) + " is " +
                 dimsText(input)};
  IdxImages images;
  images.count = limit >= 0 ? std::min(count, limit) : count;
  images.values.assign(a.values.begin(), a.values.begin() + images.count * perSample);
  return images;
}

std::vector<int32_t> readIdxLabels(const std::string &path, int64_t classes) {
  cnnc::rt::IdxArray a;
  std::string error;
  if (!cnnc::rt::readIdx(path, a, error))
    throw Failed{error};
  std::vector<int32_t> labels(a.values.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    float v = a.values[i];
    if (!(v >= 0 && v < static_cast<float>(classes) && std::floor(v) == v)) {
      char value[32];
      std::snprintf(value, sizeof value, "%g", static_cast<double>(v));
      throw Failed{"'" + path + "': label " + value + " at index " + std::to_string(i) +
                   " is not a class of the model (an integer in [0, " + std::to_string(classes) +
                   "))"};
    }
    labels[i] = static_cast<int32_t>(v);
  }
  return labels;
}

} // namespace cnnrun
