//===- cnnrun.cpp - Run a model.so from the command line ------------------===//
//
//   cnnrun info    MODEL.so
//   cnnrun init    MODEL.so --seed S [--init kaiming_normal|...] -o weights.safetensors
//   cnnrun predict MODEL.so [--weights W] (--idx IMAGES [--labels LABELS] | IMAGE.png|pgm ...)
//   cnnrun bench   MODEL.so [--weights W] [--batch 1,64] [--threads N] [--seconds S]
//   cnnrun train   MODEL.so [--data DIR] [--epochs E] [--batch B] [--optimizer sgd|adam|adamw]
//                  [--lr R] [--log CSV] [--checkpoint FILE [--resume]] [--freeze L] ...
//
// The library is opened with dlopen and driven only through the C interface
// of cnnc.h, exactly as an application would. Images are scaled to [0, 1]
// (then --mean / --std if given) and must match the model's input shape.
//
//===----------------------------------------------------------------------===//
#include "Api.h"
#include "Dataset.h"
#include "cnnc/runtime/Image.h"
#include "cnnc/runtime/cnnc.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace cnnrun {
namespace {

int info(Api &api) {
  std::cout << "model " << api.cnnc_model_name() << " (target " << api.cnnc_model_target()
            << ", runs on " << api.cnnc_model_device() << ")\n";
  cnnc_tensor_info t;
  for (int i = 0; i < api.cnnc_num_inputs(); ++i) {
    api.cnnc_input_info(i, &t);
    std::cout << "input  " << t.name << ": N x " << dimsText(t) << "\n";
  }
  for (int i = 0; i < api.cnnc_num_outputs(); ++i) {
    api.cnnc_output_info(i, &t);
    std::cout << "output " << t.name << ": N x " << dimsText(t) << "\n";
  }
  int64_t total = 0;
  for (int i = 0; i < api.cnnc_num_params(); ++i) {
    api.cnnc_param_info(i, &t);
    std::cout << "param  " << t.name << ": " << dimsText(t)
              << (t.flags & CNNC_PARAM_BUFFER ? " (buffer)" : "")
              << (t.flags & CNNC_PARAM_FROZEN ? " (frozen)" : "") << "\n";
    if (!(t.flags & CNNC_PARAM_BUFFER))
      total += elements(t);
  }
  std::cout << "trainable parameters: " << total << "\n";
  return 0;
}

/// The batch sizes of `--batch 1,64`.
std::vector<int64_t> parseBatches(const std::string &s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(parseWholeNumber(item, "--batch", 1, CNNC_MAX_BATCH));
  if (out.empty())
    throw Failed{"--batch: no batch sizes given"};
  return out;
}

/// Mean and standard deviation of the input normalization.
void checkNormalization(float mean, float stdev) {
  char text[32];
  if (!std::isfinite(mean)) {
    std::snprintf(text, sizeof text, "%g", static_cast<double>(mean));
    throw Failed{std::string("--mean: ") + text + " is not a finite number"};
  }
  if (!std::isfinite(stdev) || stdev == 0) {
    std::snprintf(text, sizeof text, "%g", static_cast<double>(stdev));
    throw Failed{std::string("--std: ") + text + " is not a finite, nonzero number"};
  }
}

/// Output that did not reach its file (a full disk, a closed pipe) fails the
/// command: a script must not take a truncated report for a whole one.
int checkStandardOutput(int status) {
  std::cout.flush();
  if (std::cout && std::fflush(stdout) == 0 && !std::ferror(stdout))
    return status;
  std::fprintf(stderr, "cnnrun: error: cannot write the standard output: %s\n",
               std::strerror(errno));
  return 1;
}

int run(int argc, char **argv) {
  CLI::App app{"cnnrun: run a model compiled by cnnc"};
  app.require_subcommand(1);
  std::string library, weights, output, idx, labels, batches = "1,64";
  std::vector<std::string> images;
  uint64_t seed = 0;
  cnnc_init_scheme scheme = CNNC_INIT_PYTORCH_DEFAULT;
  int threads = 0, top = 1;
  int64_t limit = -1, batchSize = 64;
  double secondsPerBatch = 2.0;
  float mean = 0.0f, stdev = 1.0f;

  std::vector<CLI::Option *> seedOptions;
  auto addCommon = [&](CLI::App *cmd) {
    cmd->add_option("model", library, "the model.so")->required();
    cmd->add_option("--weights", weights,
                    "safetensors weights (default: the embedded ones, or from --seed)");
    seedOptions.push_back(cmd->add_option("--seed", seed, "initialization seed"));
    seedOptions.push_back(cmd->add_option("--init", scheme, "initialization with --seed")
                              ->transform(CLI::CheckedTransformer(
                                  std::map<std::string, cnnc_init_scheme>{
                                      {"pytorch", CNNC_INIT_PYTORCH_DEFAULT},
                                      {"kaiming_normal", CNNC_INIT_KAIMING_NORMAL},
                                      {"kaiming_uniform", CNNC_INIT_KAIMING_UNIFORM},
                                      {"xavier_uniform", CNNC_INIT_XAVIER_UNIFORM},
                                      {"xavier_normal", CNNC_INIT_XAVIER_NORMAL}},
                                  CLI::ignore_case)));
    cmd->add_option("--threads", threads, "worker threads (default: one per core)")
        ->check(wholeNumberIn(1, 256));
  };
  CLI::App *infoCmd = app.add_subcommand("info", "list inputs, outputs and parameters");
  infoCmd->add_option("model", library, "the model.so")->required();
  CLI::App *initCmd = app.add_subcommand("init", "write initialized weights");
  addCommon(initCmd);
  initCmd->add_option("-o,--output", output, "the safetensors file to write")->required();
  CLI::App *predict = app.add_subcommand("predict", "classify images");
  addCommon(predict);
  predict->add_option("--idx", idx, "an IDX file of images (N x H x W or N x C x H x W)");
  predict->add_option("--labels", labels, "an IDX file of labels: print the accuracy");
  predict->add_option("--limit", limit, "classify only the first N images")
      ->check(wholeNumberIn(1, INT64_MAX));
  predict->add_option("--batch", batchSize, "images per forward call")
      ->check(wholeNumberIn(1, INT64_MAX));
  predict->add_option("--mean", mean, "subtracted after scaling to [0, 1]");
  predict->add_option("--std", stdev, "divided by after subtracting the mean");
  predict->add_option("--top", top, "classes to print per image")->check(CLI::Range(1, 100));
  predict->add_option("images", images, "PGM/PPM or PNG images");
  CLI::App *trainCmd = app.add_subcommand("train", "train on an IDX dataset (Fashion-MNIST)");
  TrainOptions t;
  addCommon(trainCmd);
  trainCmd->add_option("--data", t.data,
                       "directory of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  trainCmd->add_option("--epochs", t.epochs, "epochs")->check(wholeNumberIn(1, INT32_MAX));
  trainCmd->add_option("--batch", t.batch, "samples per step")->check(wholeNumberIn(1, INT64_MAX));
  trainCmd->add_option("--limit", t.limit, "train on the first N samples only")
      ->check(wholeNumberIn(1, INT64_MAX));
  trainCmd->add_option("--optimizer", t.optimizer, "sgd, adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  CLI::Option *learningRate =
      trainCmd->add_option("--lr", t.learningRate, "learning rate (default: sgd 0.05, adam 0.001)");
  trainCmd->add_option("--momentum", t.momentum, "SGD momentum");
  trainCmd->add_flag("--nesterov", t.nesterov, "SGD with Nesterov momentum");
  trainCmd->add_option("--weight-decay", t.weightDecay, "weight decay");
  trainCmd->add_option("--label-smoothing", t.labelSmoothing, "label smoothing in [0, 1)");
  trainCmd->add_option("--mean", t.mean, "subtracted after scaling to [0, 1]");
  trainCmd->add_option("--std", t.stdev, "divided by after subtracting the mean");
  trainCmd->add_option("--log", t.log, "CSV file of per-epoch metrics");
  trainCmd->add_option("--checkpoint", t.checkpoint,
                       "weights + optimizer state, written atomically after each epoch");
  trainCmd->add_flag("--resume", t.resume, "continue from --checkpoint if it exists");
  trainCmd->add_option("--freeze", t.freeze, "layers not to train (repeatable)");
  trainCmd->add_option("--reinit", t.reinit, "layers to re-initialize first (a new head)");
  trainCmd
      ->add_option("--early-stop", t.earlyStop,
                   "stop after N epochs without a better test accuracy (0: never)")
      ->check(wholeNumberIn(0, INT32_MAX));
  trainCmd
      ->add_option("--translate", t.translate,
                   "augment: largest shift, fraction of the size (T or TX,TY)")
      ->delimiter(',')
      ->expected(1, 2);
  trainCmd->add_option("--rotate", t.rotate, "augment: largest rotation, degrees");
  trainCmd->add_option("--shear", t.shear, "augment: largest horizontal shear, degrees");
  trainCmd->add_option("--scale", t.scale, "augment: zoom range MIN,MAX")
      ->delimiter(',')
      ->expected(1, 2);
  trainCmd->add_flag("--flip", t.flip, "augment: mirror horizontally half of the time");
  trainCmd->add_flag("--no-augment", t.noAugment, "ignore the .cnn file's augment layers");
  trainCmd->add_option("-o,--output", t.output, "final weights (safetensors)");
  CLI::App *bench = app.add_subcommand("bench", "latency and throughput");
  addCommon(bench);
  bench->add_option("--batch", batches, "comma-separated batch sizes");
  bench->add_option("--seconds", secondsPerBatch, "time per batch size")->check(finiteAtLeast(0));
  // A bad command line is a usage error: the tool's error prefix, exit 2.
  app.failure_message([](const CLI::App *, const CLI::Error &e) {
    return std::string("cnnrun: error: ") + e.what() + "\nRun with --help for more information.\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2; // --help exits 0
  }

  Api api;
  std::string error;
  if (!api.open(library, error)) {
    std::cerr << "cnnrun: error: " << error << "\n";
    return 1;
  }
  if (threads > 0)
    api.cnnc_set_num_threads(threads);
  try {
    if (infoCmd->parsed())
      return info(api);
    bool seeded = std::any_of(seedOptions.begin(), seedOptions.end(),
                              [](CLI::Option *o) { return o->count() > 0; });
    Session session(api, weights, seeded ? &seed : nullptr, scheme);
    if (trainCmd->parsed()) {
      t.seed = seed;
      t.learningRateGiven = learningRate->count() > 0;
      checkNormalization(t.mean, t.stdev);
      return train(api, session, t);
    }
    if (initCmd->parsed()) {
      session.check(api.cnnc_save_weights(session.model, output.c_str()));
      std::cout << "wrote " << output << "\n";
      return 0;
    }
    // predict and bench only run inference: one copy of the weights is enough.
    session.check(api.cnnc_release_params(session.model));
    cnnc_tensor_info in = session.input();
    int64_t sampleSize = elements(in);
    if (predict->parsed()) {
      checkNormalization(mean, stdev);
      std::vector<float> data;
      std::vector<std::string> names;
      if (!idx.empty()) {
        IdxImages a = readIdxImages(idx, in, limit);
        data = std::move(a.values);
        for (float &v : data)
          v /= 255.0f;
        for (int64_t i = 0; i < a.count; ++i)
          names.push_back(idx + "[" + std::to_string(i) + "]");
      }
      for (const std::string &path : images) {
        cnnc::rt::Image img;
        if (!cnnc::rt::readImage(path, img, error))
          throw Failed{error};
        if (img.channels * img.height * img.width != sampleSize ||
            (in.rank == 3 && (img.height != in.dims[1] || img.width != in.dims[2])))
          throw Failed{"'" + path + "' is " + std::to_string(img.channels) + "x" +
                       std::to_string(img.height) + "x" + std::to_string(img.width) +
                       ", the model's input is " + dimsText(in) + " (cnnrun does not resize)"};
        data.insert(data.end(), img.pixels.begin(), img.pixels.end());
        names.push_back(path);
      }
      if (names.empty())
        throw Failed{"nothing to classify: give --idx or images"};
      for (float &v : data)
        v = (v - mean) / stdev;
      std::vector<int32_t> truth;
      if (!labels.empty()) {
        truth = readIdxLabels(labels, session.classes());
        if (truth.size() < names.size())
          throw Failed{"'" + labels + "' has fewer labels than there are images"};
      }
      int64_t correct = 0, n = static_cast<int64_t>(names.size());
      for (int64_t start = 0; start < n; start += batchSize) {
        int64_t b = std::min(batchSize, n - start);
        std::vector<float> out = session.forward(data.data() + start * sampleSize, b);
        int64_t classes = static_cast<int64_t>(out.size()) / b;
        for (int64_t i = 0; i < b; ++i) {
          const float *row = out.data() + i * classes;
          std::vector<int64_t> order(classes);
          std::iota(order.begin(), order.end(), 0);
          std::partial_sort(order.begin(), order.begin() + std::min<int64_t>(top, classes),
                            order.end(), [&](int64_t a, int64_t c) { return row[a] > row[c]; });
          if (!truth.empty() && order[0] == truth[start + i])
            ++correct;
          if (!truth.empty() && n > 20)
            continue;
          std::cout << names[start + i] << ":";
          for (int64_t k = 0; k < std::min<int64_t>(top, classes); ++k)
            std::cout << " class " << order[k] << " (" << row[order[k]] << ")";
          if (!truth.empty())
            std::cout << " label " << truth[start + i];
          std::cout << "\n";
        }
      }
      if (!truth.empty())
        std::printf("accuracy: %.2f %% (%lld of %lld)\n", 100.0 * correct / n,
                    static_cast<long long>(correct), static_cast<long long>(n));
      return 0;
    }
    // bench
    for (int64_t b : parseBatches(batches)) {
      std::vector<float> data = batchBuffer(b, sampleSize, std::string("input ") + in.name);
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
      session.forward(data.data(), b); // warm up: allocation, packing
      std::vector<double> times;
      auto start = std::chrono::steady_clock::now();
      do {
        auto t0 = std::chrono::steady_clock::now();
        session.forward(data.data(), b);
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
                   secondsPerBatch ||
               times.size() < 3);
      std::sort(times.begin(), times.end());
      double best = times.front(), median = times[times.size() / 2];
      std::printf("batch %lld: best %.3f ms, median %.3f ms, %.1f images/s (%zu runs)\n",
                  static_cast<long long>(b), best * 1e3, median * 1e3, b / median, times.size());
    }
    return 0;
  } catch (const Failed &f) {
    std::cerr << "cnnrun: error: " << f.message << "\n";
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "cnnrun: error: " << e.what() << "\n";
    return 1;
  }
}

} // namespace
} // namespace cnnrun

int main(int argc, char **argv) { return cnnrun::checkStandardOutput(cnnrun::run(argc, argv)); }
