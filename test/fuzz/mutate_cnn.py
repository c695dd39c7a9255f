"""Structure-aware fuzzing of the whole compiler front to back: .cnn files
made by mutating the examples and the test inputs token by token (numbers
replaced by the values that break arithmetic: 0, negatives, 2^31 - 1, 2^31,
2^63 - 1, 10^12; names, keywords, lines and blocks dropped, repeated or
swapped), each compiled by `cnnc FILE --emit=plan --report`, which runs
the parser, the elaborator, MLIRGen, shape inference and the other passes,
the report and the plan builder. Every input must end with exit 0, or exit
1 with every error located (`file:line:col: error:`) or a `cnnc: error:`
line; a signal, a timeout (10 s) or another exit code is a failure, and its
input is kept in OUT/failures/.

usage: mutate_cnn.py CNNC SECONDS OUT [SEED]
"""
import glob
import os
import random
import re
import subprocess
import sys
import time

cnnc, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time())
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sources = sorted(glob.glob(os.path.join(root, "examples", "*.cnn")) +
                 glob.glob(os.path.join(root, "test", "fuzz", "seeds", "*.cnn")) +
                 glob.glob(os.path.join(root, "test", "Report", "*.cnn")))
texts = [open(p).read() for p in sources]
os.makedirs(os.path.join(out, "failures"), exist_ok=True)
rng = random.Random(seed)

EXTREMES = ["0", "-1", "1", "2", "3", "7", "2147483647", "2147483648", "4294967296",
            "9223372036854775807", "1000000000000", "65535", "1e30", "0.0", "-0.5", "nan"]
TOKEN = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z_0-9]*|\S")


def mutate(text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        i = rng.randrange(len(lines))
        if kind < 0.55:  # a number becomes an extreme, or a token is swapped
            toks = list(TOKEN.finditer(lines[i]))
            if not toks:
                continue
            t = rng.choice(toks)
            if t.group()[0].isdigit() or rng.random() < 0.3:
                new = rng.choice(EXTREMES)
            else:
                other = TOKEN.findall(rng.choice(texts))
                new = rng.choice(other) if other else t.group()
            lines[i] = lines[i][:t.start()] + new + lines[i][t.end():]
        elif kind < 0.7:
            del lines[i]
        elif kind < 0.85:
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
        else:  # a line of another file
            other = rng.choice(texts).split("\n")
            lines.insert(i, rng.choice(other))
        if not lines:
            lines = [""]
    return "\n".join(lines)


# A located diagnostic, a file-level one, cnnc's own, or the source line and
# caret under a located one (indented).
LOCATED = re.compile(r"^(\S+:\d+:\d+: (error|note|warning): |\S+: error: |cnnc: error: |\s)")
runs = failures = 0
start = time.time()
path = os.path.join(out, "input.cnn")
while time.time() - start < seconds:
    text = mutate(rng.choice(texts))
    with open(path, "w") as f:
        f.write(text)
    runs += 1
    why = None
    try:
        # A file of several networks: one of them, as a user would choose.
        names = re.findall(r"^\s*network\s+(\w+)", text, re.M)
        choose = ["--network", rng.choice(names)] if len(names) > 1 else []
        r = subprocess.run([cnnc, path, "--emit=plan", "--report"] + choose, capture_output=True,
                           text=True, errors="replace", timeout=10)
        if r.returncode < 0:
            why = f"killed by signal {-r.returncode}"
        elif r.returncode not in (0, 1):
            why = f"exit code {r.returncode}"
        elif r.returncode == 1:
            bad = [l for l in r.stderr.splitlines() if l and not LOCATED.match(l)]
            if not r.stderr.strip():
                why = "exit 1 without a message"
            elif bad:
                why = "an error without a location: " + bad[0][:200]
    except subprocess.TimeoutExpired:
        why = "no answer in 10 s"
    if why:
        failures += 1
        kept = os.path.join(out, "failures", f"case{failures}.cnn")
        with open(kept, "w") as f:
            f.write(text)
        print(f"FAILED ({why}): {kept}")
        if failures >= 20:
            break
print(f"mutate_cnn: {runs} inputs in {time.time() - start:.0f} s (seed {seed}), "
      f"{failures} failures")
sys.exit(1 if failures else 0)
