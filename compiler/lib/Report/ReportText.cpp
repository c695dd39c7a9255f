//===- ReportText.cpp - The report as a text table ------------------------===//
//
// One row a layer, columns aligned; numbers with thousands separators so
// that large counts read at a glance; a receptive field that differs along H
// and W is shown as HxW. Notes follow the table.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Arithmetic/DimsString.h"
#include "cnnc/Report/Report.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace cnnc {

namespace {

std::string grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string dims(const std::vector<int64_t> &shape) {
  return dimsString(shape.data(), shape.size());
}

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <typename T, typename F> std::string pair(const T (&v)[2], F f) {
  return v[0] == v[1] ? f(v[0]) : f(v[0]) + "x" + f(v[1]);
}

std::string bytes(int64_t n) {
  if (n < 1024)
    return std::to_string(n) + " B";
  if (n < 1024 * 1024)
    return fmt::format("{:.1f} KiB", n / 1024.0);
  return fmt::format("{:.1f} MiB", n / (1024.0 * 1024.0));
}

} // namespace

void printReportText(std::ostream &os, const NetworkReport &r) {
  os << "network " << r.network << "\n";
  for (const TensorReport &in : r.inputs)
    os << "input " << in.name << ": " << dims(in.shape) << "\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"#", "layer", "op", "output", "params", "MACs", "RF", "jump", "start"});
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerReport &l = r.layers[i];
    std::vector<std::string> row = {std::to_string(i + 1), l.name,         l.op, dims(l.shape),
                                    grouped(l.params),     grouped(l.macs)};
    if (l.field) {
      auto str = [](int64_t v) { return std::to_string(v); };
      row.push_back(pair(l.field->size, str));
      row.push_back(pair(l.field->jump, str));
      row.push_back(pair(l.field->start, number));
    } else {
      row.insert(row.end(), {"global", "-", "-"});
    }
    rows.push_back(row);
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto &row : rows)
    for (size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  // Text columns left-aligned, numbers right-aligned.
  const std::vector<bool> right = {true, false, false, false, true, true, true, true, true};
  for (const auto &row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      std::string pad(width[c] - row[c].size(), ' ');
      line += (c ? "  " : "") + (right[c] ? pad + row[c] : row[c] + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    os << line << "\n";
  }
  for (const LayerReport &l : r.layers)
    for (const std::string &n : l.notes)
      os << "note: " << l.name << ": " << n << "\n";
  for (const TensorReport &o : r.outputs)
    os << "output " << o.name << ": " << dims(o.shape) << "\n";
  os << "parameters: " << grouped(r.totalParams) << " (trainable " << grouped(r.trainableParams)
     << ", buffers " << grouped(r.buffers) << ")\n";
  os << "MACs: " << grouped(r.macs) << " per image\n";
  os << "activation memory: " << bytes(r.activationBytes) << " per image ("
     << grouped(r.activationBytes) << " bytes, float32)\n";
}

} // namespace cnnc
