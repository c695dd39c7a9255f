//===- Dataset.h - cnnrun's IDX images and labels ----------------*- C++ -*-===//
//
// The checks every command that reads an IDX dataset makes, in one place:
// the images file holds at least one sample and each sample has as many
// values as the model's input; every label of a labels file is a class of
// the model (an integer in [0, classes)). Errors name the file, and for a
// label its index, and are thrown as Failed.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TOOLS_CNNRUN_DATASET_H
#define CNNC_TOOLS_CNNRUN_DATASET_H

#include "cnnc/runtime/cnnc.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cnnrun {

/// The samples of an IDX images file, values as stored (bytes 0..255).
struct IdxImages {
  std::vector<float> values; ///< count x the input's elements
  int64_t count = 0;
};

/// Reads `path` (N x ... with the model `input`'s number of values per
/// sample, N >= 1), keeping the first `limit` samples (< 0: all).
IdxImages readIdxImages(const std::string &path, const cnnc_tensor_info &input, int64_t limit);

/// Reads the labels in `path`, each checked to be a class in [0, classes).
std::vector<int32_t> readIdxLabels(const std::string &path, int64_t classes);

} // namespace cnnrun

#endif // CNNC_TOOLS_CNNRUN_DATASET_H
