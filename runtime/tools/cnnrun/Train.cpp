//===- Train.cpp - cnnrun train: a training loop over IDX data -------------===//
//
// Reads the four IDX files of an MNIST-style dataset (Debian's
// dataset-fashion-mnist by default), scales images to [0, 1] (then --mean /
// --std), and for each epoch shuffles the training set with a seeded
// generator (so a resumed run sees the same order), runs cnnc_train_step on
// each mini-batch (a progress bar on a terminal), evaluates on the test set,
// appends a line to the CSV log and writes the checkpoint atomically. The
// epoch to resume from is the checkpoint's step count divided by the steps
// per epoch. docs/training.md documents the options.
//
//===----------------------------------------------------------------------===//
#include "Api.h"
#include "Dataset.h"
#include "cnnc/runtime/Random.h"
#include "cnnc/runtime/Safetensors.h"
#include "cnnc/runtime/StaleFiles.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <unistd.h>

namespace cnnrun {
namespace {

using Clock = std::chrono::steady_clock;

struct Split {
  std::vector<float> images;
  std::vector<int32_t> labels;
  int64_t count = 0;
};

/// `dir`/`stem` with or without .gz.
std::string dataFile(const std::string &dir, const std::string &stem) {
  std::string plain = dir + "/" + stem;
  return access((plain + ".gz").c_str(), R_OK) == 0 ? plain + ".gz" : plain;
}

/// A split's images (scaled) and labels, both checked (Dataset.h): the
/// labels are classes of the model, as many as there are images.
Split readSplit(const std::string &dir, const std::string &prefix, Session &session,
                const TrainOptions &o, int64_t limit) {
  std::string imagePath = dataFile(dir, prefix + "-images-idx3-ubyte");
  std::string labelPath = dataFile(dir, prefix + "-labels-idx1-ubyte");
  IdxImages images = readIdxImages(imagePath, session.input(), -1);
  std::vector<int32_t> labels = readIdxLabels(labelPath, session.classes());
  if (static_cast<int64_t>(labels.size()) != images.count)
    throw Failed{"'" + labelPath + "' has " + std::to_string(labels.size()) + " labels for " +
                 std::to_string(images.count) + " images"};
  Split s;
  s.count = limit > 0 ? std::min(images.count, limit) : images.count;
  s.images.resize(s.count * (images.values.size() / images.count));
  for (size_t i = 0; i < s.images.size(); ++i)
    s.images[i] = (images.values[i] / 255.0f - o.mean) / o.stdev;
  s.labels.assign(labels.begin(), labels.begin() + s.count);
  return s;
}

/// Mean cross-entropy and accuracy of the inference forward pass.
void evaluate(Session &session, const Split &test, int64_t sampleSize, double &loss,
              double &accuracy) {
  const int64_t batch = 256;
  double total = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < test.count; start += batch) {
    int64_t b = std::min(batch, test.count - start);
    std::vector<float> out = session.forward(test.images.data() + start * sampleSize, b);
    int64_t classes = static_cast<int64_t>(out.size()) / b;
    for (int64_t i = 0; i < b; ++i) {
      const float *z = out.data() + i * classes;
      int64_t best = std::max_element(z, z + classes) - z;
      double sum = 0;
      for (int64_t k = 0; k < classes; ++k)
        sum += std::exp(static_cast<double>(z[k] - z[best]));
      total += -(z[test.labels[start + i]] - z[best] - std::log(sum));
      correct += best == test.labels[start + i];
    }
  }
  loss = total / test.count;
  accuracy = static_cast<double>(correct) / test.count;
}

void progress(int epoch, int epochs, int64_t done, int64_t total, double loss, double accuracy,
              double rate) {
  const int width = 30;
  int filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  std::fprintf(stderr, "\repoch %d/%d [%s%s] %lld/%lld loss %.4f acc %.2f%% %.0f img/s ", epoch,
               epochs, std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total), loss, 100.0 * accuracy,
               rate);
}

/// The augmentation the options choose; false when they choose none (the
/// .cnn file's `augment` layers apply).
bool chosenAugmentation(const TrainOptions &o, cnnc_augmentation &a) {
  a = cnnc_augmentation{0, 0, 0, 0, 1, 1, 0};
  bool any = !o.translate.empty() || !o.scale.empty() || o.rotate != 0 || o.shear != 0 || o.flip;
  if (o.noAugment && any)
    throw Failed{"--no-augment contradicts the other augmentation options"};
  if (!o.translate.empty()) {
    a.translate_x = o.translate[0];
    a.translate_y = o.translate.back();
  }
  if (!o.scale.empty()) {
    a.scale_min = o.scale[0];
    a.scale_max = o.scale.back();
  }
  a.rotate = o.rotate;
  a.shear = o.shear;
  a.flip = o.flip;
  return any || o.noAugment;
}

std::string describe(const cnnc_augmentation &a) {
  std::string s;
  char text[96];
  auto add = [&](const char *part) { s += (s.empty() ? "" : ", ") + std::string(part); };
  if (a.translate_x != 0 || a.translate_y != 0) {
    std::snprintf(text, sizeof text, "translate %g x %g", a.translate_x, a.translate_y);
    add(text);
  }
  if (a.rotate != 0) {
    std::snprintf(text, sizeof text, "rotate %g deg", a.rotate);
    add(text);
  }
  if (a.shear != 0) {
    std::snprintf(text, sizeof text, "shear %g deg", a.shear);
    add(text);
  }
  if (a.scale_min != 1 || a.scale_max != 1) {
    std::snprintf(text, sizeof text, "scale %g..%g", a.scale_min, a.scale_max);
    add(text);
  }
  if (a.flip)
    add("flip");
  return s.empty() ? "none" : s;
}

const char *const kLogHeader =
    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,images_per_second,seconds";

/// Rewrites the log `path` (atomically) with its header and the lines of
/// epochs 1..`epochs` only: the lines a resumed run would write again (a run
/// killed after logging an epoch, or a checkpoint older than the log).
void keepLoggedEpochs(const std::string &path, int epochs) {
  std::ifstream in(path);
  std::string line, kept;
  if (!std::getline(in, line) || line != kLogHeader)
    throw Failed{"'" + path + "' is not a log of cnnrun train (its first line is not the header)"};
  kept = line + "\n";
  while (std::getline(in, line)) {
    char *end = nullptr;
    long epoch = std::strtol(line.c_str(), &end, 10);
    if (end != line.c_str() && *end == ',' && epoch >= 1 && epoch <= epochs)
      kept += line + "\n";
  }
  cnnc::rt::removeStaleTemporaries(path); // of a run killed while rewriting it
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    if (!out.flush()) {
      std::remove(tmp.c_str());
      throw Failed{"cannot write the log '" + path + "': " + std::strerror(errno)};
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Failed{"cannot replace the log '" + path + "': " + std::strerror(errno)};
  }
}

} // namespace

int train(Api &api, Session &session, const TrainOptions &o) {
  const char *reason = nullptr;
  if (!api.cnnc_can_train(&reason))
    throw Failed{std::string("this model has no training step: ") + reason};
  cnnc_tensor_info in = session.input();
  int64_t sampleSize = elements(in);
  Split trainSet = readSplit(o.data, "train", session, o, o.limit);
  Split testSet = readSplit(o.data, "t10k", session, o, -1);

  cnnc_hyperparams h;
  api.cnnc_default_hyperparams(&h);
  if (o.optimizer == "sgd") {
    h.optimizer = CNNC_OPTIMIZER_SGD;
    h.momentum = o.momentum;
    h.nesterov = o.nesterov;
  } else {
    h.optimizer = o.optimizer == "adam" ? CNNC_OPTIMIZER_ADAM : CNNC_OPTIMIZER_ADAMW;
  }
  // A given rate goes to the step as it is (which refuses a negative or NaN).
  h.learning_rate = o.learningRateGiven ? o.learningRate : (o.optimizer == "sgd" ? 0.05f : 1e-3f);
  h.weight_decay = o.weightDecay;
  h.label_smoothing = o.labelSmoothing;
  h.seed = o.seed;
  cnnc_augmentation augmentation;
  if (chosenAugmentation(o, augmentation))
    h.augmentation = &augmentation;
  else if (api.cnnc_declared_augmentation(0, &augmentation) != CNNC_OK)
    augmentation = cnnc_augmentation{0, 0, 0, 0, 1, 1, 0};
  std::printf("augmentation%s: %s\n", h.augmentation ? "" : " (declared)",
              describe(augmentation).c_str());

  for (const std::string &layer : o.reinit)
    session.check(
        api.cnnc_reinit_layer(session.model, layer.c_str(), o.seed + 1, CNNC_INIT_PYTORCH_DEFAULT));
  for (const std::string &layer : o.freeze)
    session.check(api.cnnc_set_trainable(session.model, layer.c_str(), 0));

  // A batch larger than the training set is the whole set (allocated as such).
  const int64_t batch = std::min(o.batch, trainSet.count);
  int64_t stepsPerEpoch = (trainSet.count + batch - 1) / batch;
  int firstEpoch = 0;
  bool fresh = !(o.resume && access(o.checkpoint.c_str(), R_OK) == 0);
  if (o.resume && o.checkpoint.empty())
    throw Failed{"--resume needs --checkpoint"};
  // Before the first epoch, not after it.
  std::string error;
  for (const std::string *path : {&o.checkpoint, &o.output})
    if (!path->empty() && !cnnc::rt::checkReplaceable(*path, error))
      throw Failed{error};
  if (!fresh) {
    // Checkpoints are written at the end of epochs: the step count they
    // carry says which epoch comes next.
    session.check(api.cnnc_load_weights(session.model, o.checkpoint.c_str(), CNNC_LOAD_STRICT));
    firstEpoch = static_cast<int>(api.cnnc_train_steps(session.model) / stepsPerEpoch);
    std::fprintf(stderr, "resuming from %s at epoch %d\n", o.checkpoint.c_str(), firstEpoch + 1);
  }
  std::ofstream csv;
  if (!o.log.empty()) {
    bool exists = access(o.log.c_str(), R_OK) == 0;
    if (!fresh && exists)
      keepLoggedEpochs(o.log, firstEpoch);
    csv.open(o.log, fresh ? std::ios::trunc : std::ios::app);
    if (!csv)
      throw Failed{"cannot write the log '" + o.log + "'"};
    if (fresh || !exists)
      csv << kLogHeader << "\n";
  }

  bool tty = isatty(2);
  double bestAccuracy = -1;
  int sinceBest = 0;
  std::vector<float> batchImages = batchBuffer(batch, sampleSize, "the batch's images");
  std::vector<int32_t> batchLabels(batch);
  for (int epoch = firstEpoch; epoch < o.epochs; ++epoch) {
    std::vector<int64_t> order(trainSet.count);
    std::iota(order.begin(), order.end(), 0);
    cnnc::rt::Random rng(o.seed + static_cast<uint64_t>(epoch), "shuffle");
    for (int64_t i = trainSet.count - 1; i > 0; --i)
      std::swap(order[i], order[rng.next() % static_cast<uint64_t>(i + 1)]);
    auto start = Clock::now();
    double lossSum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t step = 0; step < stepsPerEpoch; ++step) {
      int64_t b = std::min(batch, trainSet.count - step * batch);
      for (int64_t i = 0; i < b; ++i) {
        int64_t src = order[step * batch + i];
        std::copy_n(trainSet.images.data() + src * sampleSize, sampleSize,
                    batchImages.data() + i * sampleSize);
        batchLabels[i] = trainSet.labels[src];
      }
      const float *inputs[] = {batchImages.data()};
      cnnc_train_result r;
      session.check(api.cnnc_train_step(session.model, b, inputs, batchLabels.data(), &h, &r));
      if (!std::isfinite(r.loss))
        throw Failed{"the loss diverged (" + std::to_string(r.loss) + ") at epoch " +
                     std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                     ": lower the learning rate"};
      lossSum += r.loss * b;
      correct += r.correct;
      seen += b;
      double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (tty && (step % 10 == 0 || step + 1 == stepsPerEpoch))
        progress(epoch + 1, o.epochs, seen, trainSet.count, lossSum / seen,
                 static_cast<double>(correct) / seen, seen / std::max(elapsed, 1e-9));
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double testLoss, testAccuracy;
    evaluate(session, testSet, sampleSize, testLoss, testAccuracy);
    if (tty)
      std::fprintf(stderr, "\n");
    std::printf("epoch %d/%d: train loss %.4f, accuracy %.2f %%; test loss %.4f, accuracy %.2f "
                "%%; %.0f images/s, %.1f s\n",
                epoch + 1, o.epochs, lossSum / seen, 100.0 * correct / seen, testLoss,
                100.0 * testAccuracy, seen / seconds, seconds);
    // Logged before the checkpoint is saved: a run killed between the two
    // logged an epoch its checkpoint lacks, and the resume drops that line
    // (keepLoggedEpochs) and runs the epoch again.
    if (csv.is_open()) {
      csv << epoch + 1 << "," << lossSum / seen << "," << static_cast<double>(correct) / seen << ","
          << testLoss << "," << testAccuracy << "," << seen / seconds << "," << seconds << "\n";
      if (!csv.flush())
        throw Failed{"cannot write the log '" + o.log + "': " + std::strerror(errno)};
    }
    if (!o.checkpoint.empty())
      session.check(api.cnnc_save_checkpoint(session.model, o.checkpoint.c_str()));
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw Failed{std::string("cannot write the standard output: ") + std::strerror(errno)};
    if (testAccuracy > bestAccuracy) {
      bestAccuracy = testAccuracy;
      sinceBest = 0;
    } else if (o.earlyStop > 0 && ++sinceBest >= o.earlyStop) {
      std::printf("early stop: no better test accuracy in %d epochs (best %.2f %%)\n", o.earlyStop,
                  100.0 * bestAccuracy);
      break;
    }
  }
  if (!o.output.empty()) {
    session.check(api.cnnc_save_weights(session.model, o.output.c_str()));
    std::printf("wrote %s\n", o.output.c_str());
  }
  return 0;
}

} // namespace cnnrun
