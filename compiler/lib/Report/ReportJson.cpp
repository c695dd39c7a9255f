//===- ReportJson.cpp - The report as JSON --------------------------------===//
//
// The machine-readable report; the schema is documented in docs/reports.md
// and versioned by "schema_version".
//
//===----------------------------------------------------------------------===//
#include "cnnc/Report/Report.h"

#include <nlohmann/json.hpp>

namespace cnnc {

void printReportJson(std::ostream &os, const NetworkReport &r) {
  using nlohmann::json;
  json doc;
  doc["schema_version"] = 1;
  doc["network"] = r.network;
  doc["inputs"] = json::array();
  for (const TensorReport &in : r.inputs)
    doc["inputs"].push_back({{"name", in.name}, {"shape", in.shape}});
  doc["layers"] = json::array();
  for (const LayerReport &l : r.layers) {
    json layer = {
        {"name", l.name},       {"op", l.op},         {"inputs", l.inputs},
        {"shape", l.shape},     {"params", l.params}, {"trainable_params", l.trainableParams},
        {"buffers", l.buffers}, {"macs", l.macs},     {"notes", l.notes}};
    if (l.field)
      layer["receptive_field"] = {{"size", {l.field->size[0], l.field->size[1]}},
                                  {"jump", {l.field->jump[0], l.field->jump[1]}},
                                  {"start", {l.field->start[0], l.field->start[1]}}};
    else
      layer["receptive_field"] = nullptr;
    doc["layers"].push_back(layer);
  }
  doc["outputs"] = json::array();
  for (const TensorReport &o : r.outputs)
    doc["outputs"].push_back({{"name", o.name}, {"shape", o.shape}});
  doc["totals"] = {{"params", r.totalParams},
                   {"trainable_params", r.trainableParams},
                   {"buffers", r.buffers},
                   {"macs", r.macs},
                   {"activation_bytes", r.activationBytes}};
  os << doc.dump(2) << "\n";
}

} // namespace cnnc
