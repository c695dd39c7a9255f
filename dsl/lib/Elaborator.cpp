//===- Elaborator.cpp - AST to layer graph --------------------------------===//
#include "cnnc/DSL/Elaborator.h"
#include "cnnc/DSL/Limits.h"

#include "cnnc/DSL/Suggest.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace cnnc {

namespace {

/// Bounds that keep hostile input (huge `repeat` counts, deep block nesting)
/// from exhausting memory or stack; far above any real network.
constexpr int64_t kMaxLayers = 100000;
constexpr size_t kMaxBlockDepth = 64;
constexpr int64_t kMaxSteps = 2000000; // items visited, e.g. empty repeats

using Env = std::map<std::string, Value>;

/// How the layers of one scope are named.
struct NameScope {
  std::string prefix;      // "layer1.0", "" at the top
  bool positional = false; // nn.Sequential style: 0, 1, 2, ...
  int64_t position = 0;
  std::map<std::string, int> counters; // conv -> 2 after conv1, conv2
};

/// The tensor namespace of a network body or of one block instance.
struct Body {
  bool isNetwork = false;
  std::map<std::string, int> tensors;
};

/// The `add` branch being elaborated, which collects its `project` layers.
struct AddBranch {
  std::vector<int> projects;
};

struct Ctx {
  NameScope *scope;
  Body *body;
  const Env *env;
  AddBranch *branch; // innermost enclosing add branch, or nullptr
};

/// Reorders layers so that every layer comes after its inputs (a `project`
/// in an early branch reads the output of a later one), keeping definition
/// order wherever it is already valid.
void sortTopologically(Graph &graph) {
  size_t n = graph.layers.size();
  std::vector<std::vector<int>> users(n);
  std::vector<int> pending(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (int in : graph.layers[i].inputs) {
      users[in].push_back(static_cast<int>(i));
      ++pending[i];
    }
  std::set<int> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.insert(static_cast<int>(i));
  std::vector<int> order;
  while (!ready.empty()) {
    int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.insert(u);
  }
  std::vector<int> newIndex(n);
  for (size_t k = 0; k < order.size(); ++k)
    newIndex[order[k]] = static_cast<int>(k);
  std::vector<Layer> sorted;
  for (int i : order) {
    Layer l = std::move(graph.layers[i]);
    for (int &in : l.inputs)
      in = newIndex[in];
    sorted.push_back(std::move(l));
  }
  graph.layers = std::move(sorted);
  for (GraphOutput &o : graph.outputs)
    o.layer = newIndex[o.layer];
}

class Elaborator {
public:
  Elaborator(const Module &m, DiagnosticEngine &d, const InputShapes &shapes,
             const ShapeOracle &oracle)
      : module(m), diags(d), inputShapes(shapes), oracle(oracle) {}
  std::optional<Graph> run(const NetworkDef &net);

private:
  bool items(const std::vector<ItemPtr> &list, Ctx &ctx, int &current);
  bool item(const Item &it, Ctx &ctx, int &current);
  bool call(const Item &it, Ctx &ctx, int &current);
  bool layer(const Item &it, const LayerSpec &spec, Ctx &ctx, int &current);
  bool merge(const Item &it, const LayerSpec &spec, Ctx &ctx, int &current);
  bool blockCall(const Item &it, const BlockDef &def, Ctx &ctx, int &current);
  bool group(const Item &it, Ctx &ctx, int &current);

  std::optional<Value> eval(const Expr &e, const Env &env);
  std::optional<Value> normalize(const ParamSpec &p, const LayerSpec &spec, const Value &v,
                                 SourceRange range, const Env &env);
  bool checkRange(const ParamSpec &p, const LayerSpec &spec, const Value &v, SourceRange range);
  bool unknownName(const Value &v, SourceRange range, const Env &env);

  /// The item's name in its scope: its label, its position in a positional
  /// scope, or `prefix` with the scope's counter; nullopt (with an error)
  /// where the label's placeholders do not expand.
  std::optional<std::string> localName(const Item &it, Ctx &ctx, const std::string &prefix);
  std::optional<std::string> expandLabel(const Item &it, const Env &env);
  static std::string qualify(const NameScope &scope, const std::string &local) {
    return scope.prefix.empty() ? local : scope.prefix + "." + local;
  }
  int addLayer(Layer l);
  bool needInput(const Item &it, int current);
  /// Called after localName succeeded for the item, so the label expands.
  void nameTensor(const Item &it, Ctx &ctx, int tensor) {
    if (!it.label.empty())
      if (std::optional<std::string> label = expandLabel(it, *ctx.env))
        ctx.body->tensors[*label] = tensor;
  }
  /// Counts one expanded item; false (with an error) past the bound.
  bool step(SourceRange r) {
    if (++steps <= kMaxSteps)
      return true;
    return fail(r, "network is too large to elaborate (more than " + std::to_string(kMaxSteps) +
                       " items after expansion)");
  }
  bool fail(SourceRange r, std::string msg) {
    diags.error(r, std::move(msg));
    return false;
  }
  bool checkAugments();
  /// `in_channels` at `where`: the first dimension of the tensor `cursor`.
  std::optional<Value> inChannels(SourceRange where);
  /// The shape of layer `id`'s tensor: declared for an input, else inferred
  /// by the oracle from the layers it reads (cached).
  std::optional<std::vector<int64_t>> shapeOf(int id, SourceRange where);

  const Module &module;
  Env constants; // the file's `const` definitions
  DiagnosticEngine &diags;
  const InputShapes &inputShapes;
  const ShapeOracle &oracle;
  Graph graph;
  int cursor = -1; // the current tensor where an item's expressions are evaluated
  std::map<int, std::vector<int64_t>> shapes;
  std::map<std::string, SourceRange> layerNames;
  std::vector<std::string> blockStack;
  int64_t steps = 0;
};

std::optional<Graph> Elaborator::run(const NetworkDef &net) {
  graph.name = net.name;
  NameScope top;
  Body body;
  body.isNetwork = true;
  // The file's constants, in order: each may use the earlier ones.
  for (const ConstDef &c : module.constants) {
    if (constants.count(c.name)) {
      diags.error(c.range, "duplicate constant `" + c.name + "`");
      return std::nullopt;
    }
    std::optional<Value> v = eval(*c.value, constants);
    if (!v)
      return std::nullopt;
    constants[c.name] = *v;
  }
  Env env = constants;
  Ctx ctx{&top, &body, &env, nullptr};
  int current = -1;
  if (!items(net.body, ctx, current))
    return std::nullopt;
  bool hasInput = std::any_of(graph.layers.begin(), graph.layers.end(),
                              [](const Layer &l) { return l.kind == LayerKind::Input; });
  if (!hasInput) {
    diags.error(net.range,
                "network `" + net.name + "` declares no input; add `input image: CxHxW`");
    return std::nullopt;
  }
  for (const auto &given : inputShapes) {
    const std::string &name = given.first; // a plain name: lambdas cannot capture bindings
    auto isIt = [&](const Layer &l) { return l.kind == LayerKind::Input && l.name == name; };
    if (std::none_of(graph.layers.begin(), graph.layers.end(), isIt)) {
      std::string inputs;
      for (const Layer &l : graph.layers)
        if (l.kind == LayerKind::Input)
          inputs += (inputs.empty() ? "`" : ", `") + l.name + "`";
      diags.error(net.range, "--input-shape names `" + name + "`, but network `" + net.name +
                                 "` has no such input (its inputs: " + inputs + ")");
      return std::nullopt;
    }
  }
  if (graph.outputs.empty())
    graph.outputs.push_back({"output", current, graph.layers[current].range});
  if (!checkAugments())
    return std::nullopt;
  sortTopologically(graph);
  return std::move(graph);
}

bool Elaborator::items(const std::vector<ItemPtr> &list, Ctx &ctx, int &current) {
  for (const ItemPtr &it : list)
    if (!item(*it, ctx, current))
      return false;
  return true;
}

bool Elaborator::needInput(const Item &it, int current) {
  if (current >= 0)
    return true;
  return fail(it.range, "`" + it.callee +
                            "` has no input; declare `input name: CxHxW` before the "
                            "first layer");
}

bool Elaborator::item(const Item &it, Ctx &ctx, int &current) {
  if (!step(it.range))
    return false;
  cursor = current;
  switch (it.kind) {
  case Item::Kind::Input: {
    if (!ctx.body->isNetwork || ctx.scope->prefix != "" || ctx.branch)
      return fail(it.range, "`input` is only allowed at the top of a network body");
    std::vector<int64_t> dims = it.dims;
    if (auto given = inputShapes.find(it.name); given != inputShapes.end()) {
      std::string option = "--input-shape " + it.name + "=";
      for (size_t i = 0; i < given->second.size(); ++i)
        option += (i ? "x" : "") + std::to_string(given->second[i]);
      if (given->second.size() != dims.size())
        return fail(it.range, option + " has " + std::to_string(given->second.size()) +
                                  " dimensions; the input is declared with " +
                                  std::to_string(dims.size()));
      dims = given->second;
      for (int64_t d : dims)
        if (d <= 0 || d > kMaxSize)
          return fail(it.range, option + ": input dimensions must be in [1, " +
                                    std::to_string(kMaxSize) + "]");
    }
    int64_t values = 1;
    for (int64_t d : dims) {
      if (d <= 0 || d > kMaxSize)
        return fail(it.range, "input dimensions must be in [1, " + std::to_string(kMaxSize) + "]");
      if (__builtin_mul_overflow(values, d, &values) || values > kMaxSize)
        return fail(it.range, "the input holds more than " + std::to_string(kMaxSize) +
                                  " values per sample (generated code indexes with 32-bit "
                                  "integers)");
    }
    if (ctx.body->tensors.count(it.name))
      return fail(it.nameRange, "duplicate tensor name `" + it.name + "`");
    Layer l;
    l.kind = LayerKind::Input;
    l.name = it.name;
    l.range = it.nameRange;
    l.attrs["shape"] = Value::ints(dims);
    int id = addLayer(std::move(l));
    if (id < 0)
      return false;
    ctx.body->tensors[it.name] = id;
    current = id;
    return true;
  }
  case Item::Kind::Output: {
    if (!ctx.body->isNetwork)
      return fail(it.range, "`output` is only allowed in a network body, not in a block");
    if (current < 0)
      return fail(it.range, "`output` before any layer");
    std::string name = it.name;
    if (name.empty()) {
      // The tensor's label if it has one, else the layer's name.
      for (const auto &[label, id] : ctx.body->tensors)
        if (id == current)
          name = label;
      if (name.empty())
        name = graph.layers[current].name;
    }
    for (const GraphOutput &o : graph.outputs)
      if (o.name == name)
        return fail(it.range, "duplicate output name `" + name + "`");
    graph.outputs.push_back({name, current, it.range});
    return true;
  }
  case Item::Kind::Ref: {
    auto found = ctx.body->tensors.find(it.name);
    if (found == ctx.body->tensors.end()) {
      std::vector<std::string> names;
      for (const auto &kv : ctx.body->tensors)
        names.push_back(kv.first);
      return fail(it.nameRange,
                  "unknown tensor `" + it.name + "`" + didYouMean(it.name, names) +
                      (ctx.body->isNetwork ? "" : " (a block sees only its own tensors)"));
    }
    current = found->second;
    return true;
  }
  case Item::Kind::Call:
    return call(it, ctx, current);
  case Item::Kind::Group:
  case Item::Kind::Seq:
  case Item::Kind::Repeat:
  case Item::Kind::If:
    return group(it, ctx, current);
  }
  return false;
}

bool Elaborator::group(const Item &it, Ctx &ctx, int &current) {
  // A label or `seq` opens a naming scope; a bare group or repeat is transparent.
  NameScope child;
  NameScope *scope = ctx.scope;
  bool opens = !it.label.empty() || it.kind == Item::Kind::Seq;
  if (opens) {
    // An unlabelled seq in a positional scope nests like an nn.Sequential
    // inside another: it takes the next position (`f.1.0`, `f.1.1`).
    if (!it.label.empty() || ctx.scope->positional) {
      std::optional<std::string> local = localName(it, ctx, "");
      if (!local)
        return false;
      child.prefix = qualify(*ctx.scope, *local);
    } else {
      child.prefix = ctx.scope->prefix;
    }
    child.positional = it.kind == Item::Kind::Seq || it.kind == Item::Kind::Repeat;
    scope = &child;
  }
  Ctx inner = ctx;
  inner.scope = scope;
  if (it.kind == Item::Kind::If) {
    // Like a group of the chosen items: transparent unless labelled, so in
    // a `seq` they take the next positions.
    std::optional<Value> holds = eval(*it.count, *ctx.env);
    if (!holds)
      return false;
    if (holds->kind != Value::Kind::Bool)
      return fail(it.count->range, "`if` expects a boolean condition, got " + holds->kindName());
    if (!items(holds->b ? it.body : it.elseBody, inner, current))
      return false;
  } else if (it.kind != Item::Kind::Repeat) {
    if (!items(it.body, inner, current))
      return false;
  } else {
    std::optional<Value> count = eval(*it.count, *ctx.env);
    if (!count)
      return false;
    if (!count->isInt())
      return fail(it.count->range, "`repeat` expects an integer count, got " + count->kindName());
    if (count->i < 0 || count->i > kMaxLayers)
      return fail(it.count->range, "`repeat` count " + std::to_string(count->i) +
                                       " is out of range [0, " + std::to_string(kMaxLayers) + "]");
    Env env = *ctx.env;
    inner.env = &env;
    for (int64_t i = 0; i < count->i; ++i) {
      if (!step(it.range))
        return false;
      if (!it.loopVar.empty())
        env[it.loopVar] = Value::integer(i);
      if (!items(it.body, inner, current))
        return false;
    }
  }
  nameTensor(it, ctx, current);
  return true;
}

std::optional<std::string> Elaborator::localName(const Item &it, Ctx &ctx,
                                                 const std::string &prefix) {
  NameScope &scope = *ctx.scope;
  int64_t position = scope.position;
  if (scope.positional)
    ++scope.position;
  if (!it.label.empty())
    return expandLabel(it, *ctx.env);
  if (scope.positional)
    return std::to_string(position);
  return prefix + std::to_string(++scope.counters[prefix]);
}

/// A quoted label's `{name}` placeholders are replaced by the values of the
/// integers and strings of that name in scope (loop variables, block
/// parameters, constants): `"block{stage}-{i}"` names RegNet's blocks in a
/// `repeat`.
std::optional<std::string> Elaborator::expandLabel(const Item &it, const Env &env) {
  const std::string &label = it.label;
  if (label.find_first_of("{}") == std::string::npos)
    return label;
  std::string out;
  for (size_t i = 0; i < label.size();) {
    if (label[i] == '}') {
      fail(it.labelRange, "unmatched `}` in the label \"" + label + "\"");
      return std::nullopt;
    }
    if (label[i] != '{') {
      out += label[i++];
      continue;
    }
    size_t close = label.find('}', i);
    if (close == std::string::npos) {
      fail(it.labelRange, "unclosed `{` in the label \"" + label + "\"");
      return std::nullopt;
    }
    std::string name = label.substr(i + 1, close - i - 1);
    const Value *value = nullptr;
    if (auto in = env.find(name); in != env.end())
      value = &in->second;
    else if (auto constant = constants.find(name); constant != constants.end())
      value = &constant->second;
    if (!value) {
      std::vector<std::string> names;
      for (const auto &kv : env)
        names.push_back(kv.first);
      fail(it.labelRange,
           "unknown name `" + name + "` in the label \"" + label + "\"" + didYouMean(name, names));
      return std::nullopt;
    }
    const Value &v = *value;
    if (v.isInt()) {
      out += std::to_string(v.i);
    } else if (v.kind == Value::Kind::String) {
      out += v.s;
    } else {
      fail(it.labelRange,
           "`{" + name + "}` in a label must be an integer or a string, got " + v.kindName());
      return std::nullopt;
    }
    i = close + 1;
  }
  if (!isNameComponent(out, false)) {
    fail(it.labelRange, "the label \"" + label + "\" expands to \"" + out +
                            "\", not a name (one component of a state_dict name: non-empty, "
                            "without dots, spaces, quotes or braces)");
    return std::nullopt;
  }
  return out;
}

int Elaborator::addLayer(Layer l) {
  if (static_cast<int64_t>(graph.layers.size()) >= kMaxLayers) {
    diags.error(l.range, "network has more than " + std::to_string(kMaxLayers) + " layers");
    return -1;
  }
  auto [it, inserted] = layerNames.emplace(l.name, l.range);
  if (!inserted) {
    diags.error(l.range, "duplicate layer name `" + l.name + "`");
    diags.note(it->second, "`" + l.name + "` is first defined here");
    return -1;
  }
  graph.layers.push_back(std::move(l));
  return static_cast<int>(graph.layers.size()) - 1;
}

bool Elaborator::call(const Item &it, Ctx &ctx, int &current) {
  if (const LayerSpec *spec = findLayerSpec(it.callee)) {
    if (spec->isMerge)
      return merge(it, *spec, ctx, current);
    if (it.hasBranches)
      return fail(it.calleeRange, "`" + it.callee +
                                      "` takes no branches; only "
                                      "`concat` and `add` do");
    return layer(it, *spec, ctx, current);
  }
  for (const BlockDef &def : module.blocks)
    if (def.name == it.callee) {
      if (it.hasBranches)
        return fail(it.calleeRange, "block `" + it.callee + "` takes no branches");
      return blockCall(it, def, ctx, current);
    }
  std::vector<std::string> names;
  for (const LayerSpec &s : layerSpecs())
    names.push_back(s.name);
  for (const BlockDef &def : module.blocks)
    names.push_back(def.name);
  return fail(it.calleeRange,
              "unknown layer or block `" + it.callee + "`" + didYouMean(it.callee, names));
}

bool Elaborator::unknownName(const Value &v, SourceRange range, const Env &env) {
  std::vector<std::string> names;
  for (const auto &kv : env)
    names.push_back(kv.first);
  return fail(range, "unknown name `" + v.s + "`" + didYouMean(v.s, names));
}

std::optional<Value> Elaborator::normalize(const ParamSpec &p, const LayerSpec &spec,
                                           const Value &v, SourceRange range, const Env &env) {
  auto typeError = [&](const std::string &expected) -> std::optional<Value> {
    if (v.kind == Value::Kind::Symbol) {
      unknownName(v, range, env);
      return std::nullopt;
    }
    fail(range, "`" + p.name + "` of `" + spec.name + "` expects " + expected + ", got " +
                    v.kindName() + " `" + v.str() + "`");
    return std::nullopt;
  };
  switch (p.type) {
  case ParamType::Int:
    if (!v.isInt())
      return typeError("an integer");
    return v;
  case ParamType::Float:
    if (!v.isNumber())
      return typeError("a number");
    return Value::real(v.asDouble());
  case ParamType::Bool:
    if (v.kind != Value::Kind::Bool)
      return typeError("`true` or `false`");
    return v;
  case ParamType::IntPair:
    if (v.isInt())
      return Value::ints({v.i, v.i});
    if (v.isIntList() && v.list.size() == 2)
      return v;
    return typeError("an integer or a pair [h, w]");
  case ParamType::FloatPair:
    if (v.isNumber())
      return Value::makeList({Value::real(v.asDouble()), Value::real(v.asDouble())});
    if (v.kind == Value::Kind::List && v.list.size() == 2 && v.list[0].isNumber() &&
        v.list[1].isNumber())
      return Value::makeList(
          {Value::real(v.list[0].asDouble()), Value::real(v.list[1].asDouble())});
    return typeError("a number or a pair [a, b]");
  case ParamType::Padding:
    if (v.kind == Value::Kind::Symbol || v.kind == Value::Kind::String) {
      if (v.s == "same")
        return Value::symbol("same");
      if (v.s == "valid")
        return Value::ints({0, 0, 0, 0});
      if (v.kind == Value::Kind::Symbol && env.count(v.s) == 0 &&
          closestMatch(v.s, {"same", "valid"}).empty())
        return typeError("");
      return fail(range, "`pad` of `" + spec.name +
                             "` expects a number, [h, w], "
                             "[top, left, bottom, right], `same` or `valid`, got `" +
                             v.s + "`" + didYouMean(v.s, {"same", "valid"})),
             std::nullopt;
    }
    if (v.isInt())
      return Value::ints({v.i, v.i, v.i, v.i});
    if (v.isIntList() && v.list.size() == 2)
      return Value::ints({v.list[0].i, v.list[1].i, v.list[0].i, v.list[1].i});
    if (v.isIntList() && v.list.size() == 4)
      return v;
    return typeError("a number, [h, w], [top, left, bottom, right], `same` or `valid`");
  case ParamType::Enum: {
    if (v.kind == Value::Kind::Symbol || v.kind == Value::Kind::String) {
      if (std::find(p.choices.begin(), p.choices.end(), v.s) != p.choices.end())
        return Value::symbol(v.s);
      std::string list;
      for (const std::string &c : p.choices)
        list += (list.empty() ? "" : ", ") + c;
      fail(range, "`" + p.name + "` of `" + spec.name + "` must be one of " + list + ", got `" +
                      v.s + "`" + didYouMean(v.s, p.choices));
      return std::nullopt;
    }
    return typeError("one of its named choices");
  }
  case ParamType::Table: {
    if (v.kind != Value::Kind::List)
      return typeError("a list of lists of input channels");
    for (const Value &row : v.list)
      if (!row.isIntList() || row.list.empty())
        return typeError("a list of non-empty lists of input channel indices");
    return v;
  }
  }
  return std::nullopt;
}

bool Elaborator::checkRange(const ParamSpec &p, const LayerSpec &spec, const Value &v,
                            SourceRange range) {
  if (std::optional<std::string> why = boundsViolation(p, v))
    return fail(range, "`" + p.name + "` of `" + spec.name + "` " + *why);
  return true;
}

bool Elaborator::layer(const Item &it, const LayerSpec &spec, Ctx &ctx, int &current) {
  if (!needInput(it, current))
    return false;
  Layer l;
  l.kind = spec.kind;
  l.range = it.range;
  l.inputs = {current};
  std::map<std::string, SourceRange> given;
  size_t nextPositional = 0;
  for (const Arg &arg : it.args) {
    const ParamSpec *p = nullptr;
    SourceRange where = arg.name.empty() ? arg.value->range : arg.nameRange;
    if (arg.name.empty()) {
      while (nextPositional < spec.params.size() && !spec.params[nextPositional].positional)
        ++nextPositional;
      if (nextPositional >= spec.params.size())
        return fail(arg.value->range, "too many positional arguments to `" + spec.name + "`" +
                                          (spec.params.empty() ? " (it takes none)" : ""));
      p = &spec.params[nextPositional++];
    } else {
      for (const ParamSpec &cand : spec.params)
        if (cand.name == arg.name)
          p = &cand;
      if (!p) {
        std::vector<std::string> names;
        for (const ParamSpec &cand : spec.params)
          names.push_back(cand.name);
        return fail(arg.nameRange, "`" + spec.name + "` has no parameter `" + arg.name + "`" +
                                       didYouMean(arg.name, names));
      }
    }
    if (given.count(p->name))
      return fail(where, "`" + p->name + "` of `" + spec.name + "` is given twice");
    given[p->name] = where;
    std::optional<Value> raw = eval(*arg.value, *ctx.env);
    if (!raw)
      return false;
    std::optional<Value> v = normalize(*p, spec, *raw, arg.value->range, *ctx.env);
    if (!v || !checkRange(*p, spec, *v, arg.value->range))
      return false;
    l.attrs[p->name] = *v;
  }
  for (const ParamSpec &p : spec.params) {
    if (l.attrs.count(p.name))
      continue;
    if (p.required)
      return fail(it.calleeRange, "`" + spec.name + "` needs `" + p.name + "` (" + p.doc + ")");
    if (std::optional<Value> v = defaultOf(p, l.attrs))
      l.attrs[p.name] = *v;
  }
  if (auto bad = orderViolation(spec, l.attrs)) {
    auto at = given.find(bad->first->name);
    return fail(at != given.end() ? at->second : it.calleeRange,
                "`" + bad->first->name + "` of `" + spec.name + "` " + bad->second);
  }
  std::optional<std::string> local = localName(it, ctx, spec.namePrefix);
  if (!local)
    return false;
  l.name = qualify(*ctx.scope, *local);
  if (spec.kind == LayerKind::Project) {
    if (!ctx.branch)
      return fail(it.calleeRange, "`project` is only meaningful inside a branch of `add`");
  }
  int id = addLayer(std::move(l));
  if (id < 0)
    return false;
  if (spec.kind == LayerKind::Project)
    ctx.branch->projects.push_back(id);
  current = id;
  nameTensor(it, ctx, id);
  return true;
}

bool Elaborator::merge(const Item &it, const LayerSpec &spec, Ctx &ctx, int &current) {
  if (!needInput(it, current))
    return false;
  if (!it.args.empty())
    return fail(it.args.front().value->range, "`" + spec.name + "` takes no arguments");
  if (!it.hasBranches)
    return fail(it.calleeRange,
                "`" + spec.name + "` needs branches: `" + spec.name + " { {...} {...} }`");
  if (it.branches.size() < 2)
    return fail(it.calleeRange, "`" + spec.name + "` needs at least two branches, got " +
                                    std::to_string(it.branches.size()));
  // The merge takes its name (and position) before its branches' layers.
  std::optional<std::string> local = localName(it, ctx, spec.namePrefix);
  if (!local)
    return false;
  std::vector<int> outs;
  std::vector<AddBranch> branches(it.branches.size());
  for (size_t b = 0; b < it.branches.size(); ++b) {
    Ctx inner = ctx;
    if (spec.kind == LayerKind::Add)
      inner.branch = &branches[b];
    int out = current;
    if (!group(*it.branches[b], inner, out))
      return false;
    outs.push_back(out);
  }
  if (spec.kind == LayerKind::Add) {
    int reference = -1;
    for (size_t b = 0; b < branches.size() && reference < 0; ++b)
      if (branches[b].projects.empty())
        reference = outs[b];
    for (size_t b = 0; b < branches.size(); ++b)
      for (int p : branches[b].projects) {
        if (reference < 0)
          return fail(graph.layers[p].range,
                      "`project` needs a branch of this `add` without `project` to "
                      "take its shape from");
        graph.layers[p].inputs.push_back(reference);
      }
  }
  Layer l;
  l.kind = spec.kind;
  l.name = qualify(*ctx.scope, *local);
  l.range = {it.calleeRange.begin, it.calleeRange.end};
  l.inputs = outs;
  int id = addLayer(std::move(l));
  if (id < 0)
    return false;
  current = id;
  nameTensor(it, ctx, id);
  return true;
}

static bool matchesType(const std::string &type, Value &v) {
  if (type.empty())
    return true;
  if (type == "int")
    return v.isInt();
  if (type == "float") {
    if (!v.isNumber())
      return false;
    v = Value::real(v.asDouble());
    return true;
  }
  if (type == "bool")
    return v.kind == Value::Kind::Bool;
  if (type == "string")
    return v.kind == Value::Kind::String || v.kind == Value::Kind::Symbol;
  if (type == "list")
    return v.kind == Value::Kind::List;
  return false;
}

bool Elaborator::blockCall(const Item &it, const BlockDef &def, Ctx &ctx, int &current) {
  if (!needInput(it, current))
    return false;
  auto onStack = std::find(blockStack.begin(), blockStack.end(), def.name);
  if (onStack != blockStack.end()) {
    std::string cycle;
    for (auto i = onStack; i != blockStack.end(); ++i)
      cycle += *i + " -> ";
    return fail(it.calleeRange, "block `" + def.name + "` instantiates itself (" + cycle +
                                    def.name + "); blocks cannot be recursive");
  }
  if (blockStack.size() >= kMaxBlockDepth)
    return fail(it.calleeRange,
                "blocks are nested more than " + std::to_string(kMaxBlockDepth) + " deep");
  // Bind arguments: positional in order, then keywords, then defaults;
  // the file's constants are seen where no parameter hides them.
  Env env = constants;
  std::map<std::string, SourceRange> bound;
  size_t nextPositional = 0;
  for (const Arg &arg : it.args) {
    const BlockParam *p = nullptr;
    if (arg.name.empty()) {
      if (nextPositional >= def.params.size())
        return fail(arg.value->range, "too many arguments to block `" + def.name + "` (it takes " +
                                          std::to_string(def.params.size()) + ")");
      p = &def.params[nextPositional++];
    } else {
      for (const BlockParam &cand : def.params)
        if (cand.name == arg.name)
          p = &cand;
      if (!p) {
        std::vector<std::string> names;
        for (const BlockParam &cand : def.params)
          names.push_back(cand.name);
        return fail(arg.nameRange, "block `" + def.name + "` has no parameter `" + arg.name + "`" +
                                       didYouMean(arg.name, names));
      }
    }
    SourceRange where = arg.name.empty() ? arg.value->range : arg.nameRange;
    if (bound.count(p->name))
      return fail(where, "argument `" + p->name + "` of block `" + def.name + "` is given twice");
    bound[p->name] = where;
    std::optional<Value> v = eval(*arg.value, *ctx.env);
    if (!v)
      return false;
    if (!matchesType(p->type, *v)) {
      if (v->kind == Value::Kind::Symbol)
        return unknownName(*v, arg.value->range, *ctx.env);
      diags.error(arg.value->range, "argument `" + p->name + "` of block `" + def.name +
                                        "` expects " + p->type + ", got " + v->kindName() + " `" +
                                        v->str() + "`");
      diags.note(p->typeRange, "`" + p->name + "` is declared `" + p->type + "` here");
      return false;
    }
    env[p->name] = *v;
  }
  for (const BlockParam &p : def.params) {
    if (bound.count(p.name))
      continue;
    if (!p.defaultValue) {
      diags.error(it.calleeRange, "block `" + def.name + "` needs argument `" + p.name + "`");
      diags.note(p.range, "`" + p.name + "` is declared here without a default");
      return false;
    }
    std::optional<Value> v = eval(*p.defaultValue, env);
    if (!v)
      return false;
    if (!matchesType(p.type, *v))
      return fail(p.defaultValue->range,
                  "default of `" + p.name + "` is " + v->kindName() + ", not " + p.type);
    env[p.name] = *v;
  }

  NameScope scope;
  std::optional<std::string> local = localName(it, ctx, def.name);
  if (!local)
    return false;
  scope.prefix = qualify(*ctx.scope, *local);
  Body body;
  body.isNetwork = false;
  Ctx inner{&scope, &body, &env, nullptr};
  blockStack.push_back(def.name);
  bool ok = items(def.body, inner, current);
  blockStack.pop_back();
  if (!ok) {
    diags.note(it.calleeRange, "in block `" + def.name + "` instantiated here");
    return false;
  }
  nameTensor(it, ctx, current);
  return true;
}

std::optional<Value> Elaborator::eval(const Expr &e, const Env &env) {
  switch (e.kind) {
  case Expr::Kind::Int:
    return Value::integer(e.intValue);
  case Expr::Kind::Float:
    return Value::real(e.floatValue);
  case Expr::Kind::Bool:
    return Value::boolean(e.boolValue);
  case Expr::Kind::String:
    return Value::string(e.text);
  case Expr::Kind::Dims:
    return Value::ints(e.dims);
  case Expr::Kind::Ident: {
    auto it = env.find(e.text);
    if (it == env.end() && e.text == kInChannels)
      return inChannels(e.range);
    // An unbound name is a symbol (`same`, `reflect`); whoever consumes it
    // decides whether that is a keyword or an unknown name.
    return it != env.end() ? it->second : Value::symbol(e.text);
  }
  case Expr::Kind::List: {
    std::vector<Value> elts;
    for (const auto &op : e.operands) {
      std::optional<Value> v = eval(*op, env);
      if (!v)
        return std::nullopt;
      elts.push_back(*v);
    }
    return Value::makeList(std::move(elts));
  }
  case Expr::Kind::Unary: {
    std::optional<Value> v = eval(*e.operands[0], env);
    if (!v)
      return std::nullopt;
    if (v->kind == Value::Kind::Symbol)
      return unknownName(*v, e.operands[0]->range, env), std::nullopt;
    if (e.text == "-" && v->isInt() && v->i != std::numeric_limits<int64_t>::min())
      return Value::integer(-v->i);
    if (e.text == "-" && v->kind == Value::Kind::Float)
      return Value::real(-v->f);
    if (e.text == "!" && v->kind == Value::Kind::Bool)
      return Value::boolean(!v->b);
    fail(e.range, "cannot apply `" + e.text + "` to " + v->kindName());
    return std::nullopt;
  }
  case Expr::Kind::Cond: {
    std::optional<Value> c = eval(*e.operands[0], env);
    if (!c)
      return std::nullopt;
    if (c->kind != Value::Kind::Bool) {
      if (c->kind == Value::Kind::Symbol)
        return unknownName(*c, e.operands[0]->range, env), std::nullopt;
      fail(e.operands[0]->range, "condition must be a boolean, got " + c->kindName());
      return std::nullopt;
    }
    return eval(*e.operands[c->b ? 1 : 2], env);
  }
  case Expr::Kind::Binary: {
    std::optional<Value> a = eval(*e.operands[0], env);
    if (!a)
      return std::nullopt;
    std::optional<Value> b = eval(*e.operands[1], env);
    if (!b)
      return std::nullopt;
    // A name without a value is a typo here, not a keyword value; a keyword
    // value that a block received (`act: hardswish`) compares as its text.
    for (const auto &operand : e.operands)
      if (operand->kind == Expr::Kind::Ident && !env.count(operand->text) &&
          operand->text != kInChannels)
        return unknownName(Value::symbol(operand->text), operand->range, env), std::nullopt;
    auto isText = [](const Value &v) {
      return v.kind == Value::Kind::Symbol || v.kind == Value::Kind::String;
    };
    const std::string &op = e.text;
    if ((op == "==" || op == "!=") && isText(*a) && isText(*b)) {
      bool eq = a->s == b->s;
      return Value::boolean(op == "==" ? eq : !eq);
    }
    for (auto [v, r] : {std::pair{&*a, e.operands[0]->range}, {&*b, e.operands[1]->range}})
      if (v->kind == Value::Kind::Symbol)
        return unknownName(*v, r, env), std::nullopt;
    if (op == "&&" || op == "||") {
      if (a->kind != Value::Kind::Bool || b->kind != Value::Kind::Bool)
        return fail(e.range, "`" + op + "` needs booleans"), std::nullopt;
      return Value::boolean(op == "&&" ? (a->b && b->b) : (a->b || b->b));
    }
    if (op == "==" || op == "!=") {
      bool eq;
      if (a->isNumber() && b->isNumber())
        eq = a->asDouble() == b->asDouble();
      else
        eq = a->kind == b->kind && a->str() == b->str();
      return Value::boolean(op == "==" ? eq : !eq);
    }
    if (!a->isNumber() || !b->isNumber())
      return fail(e.range,
                  "`" + op + "` needs numbers, got " + a->kindName() + " and " + b->kindName()),
             std::nullopt;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      double x = a->asDouble(), y = b->asDouble();
      bool r = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y;
      return Value::boolean(r);
    }
    if (a->isInt() && b->isInt()) {
      int64_t x = a->i, y = b->i, r = 0;
      bool overflow = false;
      if (op == "+")
        overflow = __builtin_add_overflow(x, y, &r);
      else if (op == "-")
        overflow = __builtin_sub_overflow(x, y, &r);
      else if (op == "*")
        overflow = __builtin_mul_overflow(x, y, &r);
      else {
        if (y == 0)
          return fail(e.range, "division by zero"), std::nullopt;
        if (x == std::numeric_limits<int64_t>::min() && y == -1)
          overflow = true;
        else if (op == "/") // floor division, as Python's `//`
          r = x / y - ((x % y != 0) && ((x < 0) != (y < 0)) ? 1 : 0);
        else
          r = x % y + ((x % y != 0) && ((x < 0) != (y < 0)) ? y : 0);
      }
      if (overflow)
        return fail(e.range, "integer overflow"), std::nullopt;
      return Value::integer(r);
    }
    double x = a->asDouble(), y = b->asDouble();
    if (op == "+")
      return Value::real(x + y);
    if (op == "-")
      return Value::real(x - y);
    if (op == "*")
      return Value::real(x * y);
    if (y == 0)
      return fail(e.range, "division by zero"), std::nullopt;
    if (op == "/")
      return Value::real(x / y);
    return Value::real(std::fmod(x, y));
  }
  }
  return std::nullopt;
}

/// An `augment` warps a network input while training: it must read an
/// input directly and be its only reader (the runtime writes the caller's
/// batch straight into the augmented tensor when augmentation is off).
bool Elaborator::checkAugments() {
  std::vector<std::vector<int>> readers(graph.layers.size());
  for (size_t i = 0; i < graph.layers.size(); ++i)
    for (int in : graph.layers[i].inputs)
      readers[in].push_back(static_cast<int>(i));
  for (const GraphOutput &o : graph.outputs)
    readers[o.layer].push_back(-1);
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer &l = graph.layers[i];
    if (l.kind != LayerKind::Augment)
      continue;
    const Layer &in = graph.layers[l.inputs[0]];
    if (in.kind != LayerKind::Input)
      return fail(l.range, "`augment` warps a network input: put it right after `input`, "
                           "not after `" +
                               in.name + "`");
    for (int r : readers[l.inputs[0]])
      if (r != static_cast<int>(i))
        return fail(r < 0 ? l.range : graph.layers[r].range,
                    "input `" + in.name + "` is augmented by `" + l.name + "`, so `" +
                        (r < 0 ? std::string("output") : graph.layers[r].name) +
                        "` cannot read it directly; read the augmented tensor instead");
  }
  return true;
}

std::optional<Value> Elaborator::inChannels(SourceRange where) {
  if (cursor < 0) {
    fail(where, std::string("`") + kInChannels +
                    "` reads the channels of the current tensor, and there is none yet: "
                    "declare `input name: CxHxW` first");
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> shape = shapeOf(cursor, where);
  if (!shape)
    return std::nullopt;
  return Value::integer(shape->front());
}

std::optional<std::vector<int64_t>> Elaborator::shapeOf(int id, SourceRange where) {
  if (graph.layers[id].kind == LayerKind::Input)
    return graph.layers[id].getInts("shape");
  if (auto known = shapes.find(id); known != shapes.end())
    return known->second;
  // The layers `id` reads, in index order; a `project` reads a branch of
  // its `add` that is known only once the add is complete.
  std::set<int> needed;
  std::vector<int> stack = {id};
  while (!stack.empty()) {
    int l = stack.back();
    stack.pop_back();
    if (!needed.insert(l).second)
      continue;
    if (graph.layers[l].kind == LayerKind::Project && graph.layers[l].inputs.size() < 2) {
      fail(where, std::string("`") + kInChannels + "` cannot be read after `project` `" +
                      graph.layers[l].name +
                      "`: its shape is the other branch's, known at the end of its `add`");
      return std::nullopt;
    }
    for (int in : graph.layers[l].inputs)
      stack.push_back(in);
  }
  if (!oracle) {
    fail(where,
         std::string("`") + kInChannels + "` needs shape inference, which this tool does not run");
    return std::nullopt;
  }
  Graph prefix;
  prefix.name = graph.name;
  std::map<int, int> index;
  for (int l : needed) {
    index[l] = static_cast<int>(prefix.layers.size());
    prefix.layers.push_back(graph.layers[l]);
  }
  for (Layer &l : prefix.layers)
    for (int &in : l.inputs)
      in = index.at(in);
  prefix.outputs.push_back({kInChannels, index.at(id), where});
  sortTopologically(prefix);
  std::optional<std::vector<int64_t>> shape = oracle(prefix);
  if (!shape || shape->empty()) {
    diags.note(where, std::string("while inferring the shape whose channels `") + kInChannels +
                          "` reads here");
    return std::nullopt;
  }
  shapes[id] = *shape;
  return shape;
}

} // namespace

std::optional<Graph> elaborate(const Module &module, const NetworkDef &network,
                               DiagnosticEngine &diags, const InputShapes &inputShapes,
                               const ShapeOracle &shapes) {
  std::set<std::string> seen;
  for (const BlockDef &b : module.blocks) {
    if (findLayerSpec(b.name)) {
      diags.error(b.range, "block `" + b.name + "` has the name of a built-in layer");
      return std::nullopt;
    }
    if (!seen.insert(b.name).second) {
      diags.error(b.range, "duplicate block name `" + b.name + "`");
      return std::nullopt;
    }
    std::set<std::string> params;
    for (const BlockParam &p : b.params)
      if (!params.insert(p.name).second) {
        diags.error(p.range, "duplicate parameter `" + p.name + "` in block `" + b.name + "`");
        return std::nullopt;
      }
  }
  return Elaborator(module, diags, inputShapes, shapes).run(network);
}

const NetworkDef *selectNetwork(const Module &module, const std::string &name,
                                DiagnosticEngine &diags) {
  std::vector<std::string> names;
  for (const NetworkDef &n : module.networks) {
    if (n.name == name)
      return &n;
    names.push_back(n.name);
  }
  if (name.empty() && module.networks.size() == 1)
    return &module.networks.front();
  SourceRange none;
  if (module.networks.empty())
    diags.error(none, "no `network` is defined");
  else if (name.empty()) {
    std::string list;
    for (const std::string &n : names)
      list += (list.empty() ? "" : ", ") + n;
    diags.error(none, "the file defines " + std::to_string(names.size()) + " networks (" + list +
                          "); choose one with --network");
  } else
    diags.error(none, "no network named `" + name + "`" + didYouMean(name, names));
  return nullptr;
}

} // namespace cnnc
