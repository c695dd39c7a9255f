//===- Augmentation.cpp - Random affine warps of training images ----------===//
//
// The runtime's half of data augmentation: drawing one affine map per sample
// (the generated AugmentApply step does the bilinear warp). The forward map
// takes an input point p to c + t + s R(angle) Sh(shear) F (p - c), c the
// image center ((W - 1) / 2, (H - 1) / 2), F a mirror of x or the identity;
// the step needs its inverse, from an output pixel to the input point:
// p = c + A^-1 (q - c - t). docs/training.md has the conventions.
//
//===----------------------------------------------------------------------===//
#include "ModelContext.h"
#include "cnnc/runtime/Random.h"

#include <cmath>

using namespace cnnc::rt;

namespace cnnc::rt {

void checkAugmentation(const cnnc_augmentation &a) {
  auto fail = [](const std::string &what) { throw Failure(CNNC_ERROR_ARGUMENT, what); };
  auto within = [](float v, float lo, float hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  if (!within(a.translate_x, 0, 1) || !within(a.translate_y, 0, 1))
    fail("augmentation: translate must be in [0, 1] (a fraction of the size)");
  if (!within(a.rotate, 0, 180))
    fail("augmentation: rotate must be in [0, 180] degrees");
  if (!within(a.shear, 0, 80) || a.shear == 80)
    fail("augmentation: shear must be in [0, 80) degrees");
  if (!within(a.scale_max, 0, 10) || !(a.scale_min > 0 && a.scale_min <= a.scale_max))
    fail("augmentation: scale needs 0 < scale_min <= scale_max <= 10");
}

bool isIdentity(const cnnc_augmentation &a) {
  return a.translate_x == 0 && a.translate_y == 0 && a.rotate == 0 && a.shear == 0 &&
         a.scale_min == 1 && a.scale_max == 1 && !a.flip;
}

cnnc_augmentation declaredAugmentation(const cnnc_augment_desc &d) {
  return {d.translate_x, d.translate_y, d.rotate, d.shear, d.scale_min, d.scale_max, d.flip};
}

void drawAugmentationMaps(const cnnc_augmentation &a, int64_t batch, int64_t height, int64_t width,
                          uint64_t seed, float *maps) {
  Random rng(seed, "augment");
  const double radians = std::acos(-1.0) / 180;
  double cx = (static_cast<double>(width) - 1) / 2, cy = (static_cast<double>(height) - 1) / 2;
  for (int64_t n = 0; n < batch; ++n, maps += 6) {
    // Every value is drawn whatever the ranges, so that enabling one kind of
    // augmentation does not change the draws of the others.
    double angle = rng.uniform(-a.rotate, a.rotate) * radians;
    double shear = rng.uniform(-a.shear, a.shear) * radians;
    double scale = rng.uniform(a.scale_min, a.scale_max);
    double tx = rng.uniform(-a.translate_x, a.translate_x) * static_cast<double>(width);
    double ty = rng.uniform(-a.translate_y, a.translate_y) * static_cast<double>(height);
    bool flip = rng.uniform() < 0.5f && a.flip;
    // A = s R Sh F; R Sh = [[cos, cos tan - sin], [sin, sin tan + cos]].
    double c = std::cos(angle), s = std::sin(angle), t = std::tan(shear);
    double a00 = scale * c, a01 = scale * (c * t - s);
    double a10 = scale * s, a11 = scale * (s * t + c);
    if (flip) {
      a00 = -a00;
      a10 = -a10;
    }
    double det = a00 * a11 - a01 * a10;
    double i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det;
    double ox = cx + tx, oy = cy + ty;
    maps[0] = static_cast<float>(i00);
    maps[1] = static_cast<float>(i01);
    maps[2] = static_cast<float>(cx - (i00 * ox + i01 * oy));
    maps[3] = static_cast<float>(i10);
    maps[4] = static_cast<float>(i11);
    maps[5] = static_cast<float>(cy - (i10 * ox + i11 * oy));
  }
}

const cnnc_augment_desc *augmentOfInput(int32_t input) {
  for (int a = 0; a < desc().num_augments; ++a)
    if (desc().augments[a].input == input)
      return &desc().augments[a];
  return nullptr;
}

} // namespace cnnc::rt

extern "C" {

cnnc_status cnnc_declared_augmentation(int32_t input, cnnc_augmentation *out) {
  if (!out || input < 0 || input >= desc().num_inputs)
    return CNNC_ERROR_ARGUMENT;
  const cnnc_augment_desc *a = augmentOfInput(input);
  if (!a)
    return CNNC_ERROR_MISSING;
  *out = declaredAugmentation(*a);
  return CNNC_OK;
}

cnnc_status cnnc_augmentation_maps(const cnnc_augmentation *augmentation, int64_t batch,
                                   int64_t height, int64_t width, uint64_t seed, float *maps) {
  if (!augmentation || !maps || batch < 1 || height < 1 || width < 1)
    return CNNC_ERROR_ARGUMENT;
  try {
    checkAugmentation(*augmentation);
  } catch (const Failure &f) {
    return f.status;
  }
  drawAugmentationMaps(*augmentation, batch, height, width, seed, maps);
  return CNNC_OK;
}

cnnc_status cnnc_augment(cnnc_model *model, int32_t input, int64_t batch, const float *images,
                         const float *maps, float *out) {
  return guarded(model, [&] {
    const cnnc_model_desc &d = desc();
    if (input < 0 || input >= d.num_inputs)
      throw Failure(CNNC_ERROR_ARGUMENT, "no input " + std::to_string(input));
    const cnnc_augment_desc *a = augmentOfInput(input);
    if (!a)
      throw Failure(CNNC_ERROR_MISSING, std::string("input '") + d.inputs[input].name +
                                            "' has no augmentation step (not an image, or no "
                                            "training step)");
    checkBatch(batch);
    if (!images || !maps || !out)
      throw Failure(CNNC_ERROR_ARGUMENT, "images, maps or out is null");
    const cnnc_io_desc &io = d.inputs[input];
    int64_t pixels = io.h * io.w;
    // The step's three tensors in slots of their own.
    SlotSet set;
    set.slotOf.assign(d.num_tensors, -1);
    set.slotOf[io.tensor] = 0;
    set.slotOf[a->maps] = 1;
    set.slotOf[a->output] = 2;
    set.slotElements = {io.c * pixels, 6, io.c * pixels};
    set.slots.resize(3);
    set.reserve(batch);
    transposeEach(images, set.data(io.tensor), batch, io.c, pixels);
    std::memcpy(set.data(a->maps), maps, sizeof(float) * 6 * batch);
    model->tensorToDevice(set, io.tensor, batch);
    model->tensorToDevice(set, a->maps, batch);
    model->runSteps(&d.train_forward[a->step], 1, batch, set);
    model->tensorToHost(set, a->output, batch);
    transposeEach(set.data(a->output), out, batch, pixels, io.c);
    if (model->device)
      model->device->forget(Space::Scratch);
  });
}

} // extern "C"
