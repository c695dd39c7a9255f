"""Fuzzing cnnrun's command line: valid commands of every subcommand (info,
init, predict, train, bench) on the small model of test/fuzz/model.cnn and
a tiny dataset, mutated argument by argument (a value replaced by one that
breaks parsing or arithmetic: empty, negative, 2^31, 2^63, 1e400, nan, inf,
hex, lists with empty items, a 5000-character string; a path replaced by
/dev/zero, /dev/null, a directory, an empty or truncated file, the model itself, a
missing one; arguments dropped, repeated, swapped, or an option of another
subcommand inserted), each run by the cnnrun given, built with ASan and
UBSan, in a fresh copy of the files. Every command must end with exit 0, or
exit 1 (an error) or 2 (a usage error) with a `cnnrun: error:` line; a
signal, a sanitizer report, another exit code or a timeout (20 s) is a
failure, and its command line is kept in OUT/failures/. A timeout is the user's request, not a failure, when the
command asks for that much work (--epochs or --seconds above 1000).

usage: mutate_cnnrun.py CNNRUN MODEL_SO SECONDS OUT [SEED]
"""
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import time

cnnrun, model_so = os.path.abspath(sys.argv[1]), sys.argv[2]
seconds, out = float(sys.argv[3]), sys.argv[4]
seed = int(sys.argv[5]) if len(sys.argv) > 5 else int(time.time())
rng = random.Random(seed)
fixtures = os.path.join(out, "fixtures")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(os.path.join(fixtures, "data"))
os.makedirs(os.path.join(out, "failures"))


def idx(dims, values):
    header = struct.pack(">BBBB", 0, 0, 8, len(dims)) + b"".join(struct.pack(">I", d)
                                                                 for d in dims)
    return header + bytes(values)


def write(name, data):
    with open(os.path.join(fixtures, name), "wb") as f:
        f.write(data)


# The model reads N x 2x6x6 and has 3 classes.
write("model.so", open(model_so, "rb").read())
images = idx([10, 2, 6, 6], [rng.randrange(256) for _ in range(720)])
labels = idx([10], [rng.randrange(3) for _ in range(10)])
write("images.idx", images)
write("labels.idx", labels)
for split in ("train", "t10k"):
    write(f"data/{split}-images-idx3-ubyte", images)
    write(f"data/{split}-labels-idx1-ubyte", labels)
write("gray.pgm", b"P5 6 6 255\n" + bytes(range(36)))
write("empty", b"")
os.symlink("/dev/zero", os.path.join(fixtures, "zero"))
os.symlink("/dev/null", os.path.join(fixtures, "null"))
subprocess.run([cnnrun, "init", os.path.join(fixtures, "model.so"), "--seed", "1", "-o",
                os.path.join(fixtures, "w.safetensors")], check=True, capture_output=True)
subprocess.run([cnnrun, "train", os.path.join(fixtures, "model.so"), "--data",
                os.path.join(fixtures, "data"), "--epochs", "1", "--batch", "4", "--optimizer",
                "adam", "--checkpoint", os.path.join(fixtures, "ck.safetensors")], check=True,
               capture_output=True)
write("cut.safetensors", open(os.path.join(fixtures, "ck.safetensors"), "rb").read()[:300])

COMMANDS = [
    "info model.so",
    "init model.so --seed 1 --init kaiming_normal -o out.safetensors",
    "predict model.so --weights w.safetensors --idx images.idx --labels labels.idx --top 2 "
    "--batch 3 --limit 7 --mean 0.5 --std 0.25",
    "predict model.so --seed 3 --threads 1 gray.pgm",
    "train model.so --data data --epochs 2 --batch 4 --limit 8 --optimizer adam --lr 0.01 "
    "--log log.csv --checkpoint new.safetensors --translate 0.1 --rotate 5 --shear 3 "
    "--scale 0.9,1.1 --flip -o final.safetensors",
    "train model.so --data data --epochs 2 --checkpoint ck.safetensors --resume --freeze conv1 "
    "--reinit fc1 --momentum 0.9 --nesterov --weight-decay 1e-4 --label-smoothing 0.1 "
    "--early-stop 1 --no-augment --weights w.safetensors",
    "bench model.so --batch 1,2 --seconds 0 --threads 1",
]
OPTIONS = sorted({t for c in COMMANDS for t in c.split() if t.startswith("-")} |
                 {"--help", "-h", "--", "-"})
VALUES = ["", "-1", "0", "1", "-0", "3.5", "2147483647", "2147483648", "4294967296",
          "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400",
          "-1e400", "nan", "inf", "-inf", "1e-45", "0x10", "1,2,", ",", "1,,2", "abc", "\u00e9",
          "x" * 5000, "%s%n", "1 2", "-5,3", "0,0"]
# Values that parse, so that the command goes past the option parser.
PLAUSIBLE = ["0", "1", "2", "3", "7", "64", "1000", "0.5", "0.999", "1e-3", "-0.5", "2.5",
             "1,1", "0.5,2", "0,0.3", "sgd", "adamw", "xavier_uniform", "conv2", "bn1", "fc1", ""]
# zero and null are links to the devices: a rename over them replaces the
# link only, whatever cnnrun does, never the device itself.
PATHS = ["zero", "null", "data", ".", "empty", "cut.safetensors", "model.so",
         "gray.pgm", "images.idx", "missing/file", "w.safetensors", "ck.safetensors"]
NUMBER = re.compile(r"^-?[0-9.,e-]+$")


def mutate(args):
    args = list(args)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        kind = rng.random()
        # The subcommand stays, mostly: the rest is what is fuzzed.
        i = rng.randrange(1 if len(args) > 1 and rng.random() < 0.9 else 0, len(args))
        if kind < 0.45:  # a value becomes a hostile one
            old = args[i]
            looks_like_path = "." in old and not NUMBER.match(old) or old in ("data", "model.so")
            args[i] = rng.choice(PATHS if looks_like_path and rng.random() < 0.7 else
                                 VALUES if rng.random() < 0.5 else PLAUSIBLE)
        elif kind < 0.6:
            del args[i]
        elif kind < 0.72:
            args.insert(i, args[i])
        elif kind < 0.84:
            j = rng.randrange(len(args))
            args[i], args[j] = args[j], args[i]
        else:  # an option, mostly of this subcommand, with a value or not
            own = [t for t in args if t.startswith("--")]
            new = [rng.choice(own if own and rng.random() < 0.7 else OPTIONS)]
            if rng.random() < 0.7:
                new.append(rng.choice(VALUES + PATHS))
            args[i:i] = new
        if not args:
            args = ["info"]
    return args


def by_request(args):
    """Whether the command asks for long work (a timeout is then expected)."""
    for opt, value in zip(args, args[1:]):
        if opt in ("--epochs", "--seconds"):
            try:
                if not float(value) <= 1000:
                    return True
            except ValueError:
                pass
    return False


SANITIZER = re.compile(r"ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:")
env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:halt_on_error=1",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
runs = failures = 0
outcomes = {"exit 0": 0, "cnnrun: error": 0, "usage error": 0, "long by request": 0}
start = time.time()
work = os.path.join(out, "run")
while time.time() - start < seconds:
    args = mutate(shlex.split(rng.choice(COMMANDS)))
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(fixtures, work, symlinks=True)
    runs += 1
    why, err = None, ""
    try:
        r = subprocess.run([cnnrun] + args, cwd=work, capture_output=True, text=True,
                           errors="replace", timeout=20, env=env, stdin=subprocess.DEVNULL)
        err = r.stderr
        outcome = {0: "exit 0", 1: "cnnrun: error", 2: "usage error"}.get(r.returncode)
        if outcome:
            outcomes[outcome] += 1
        if SANITIZER.search(err):
            why = "a sanitizer report: " + SANITIZER.search(err).group()
        elif r.returncode < 0:
            why = f"killed by signal {-r.returncode}"
        elif r.returncode in (1, 2):
            if not re.search(r"^cnnrun: error: \S", err, re.M):
                why = f"exit {r.returncode} without a 'cnnrun: error:' line"
        elif r.returncode != 0:
            why = f"exit code {r.returncode}"
    except subprocess.TimeoutExpired:
        why = None if by_request(args) else "no answer in 20 s"
        outcomes["long by request"] += why is None
    if why:
        failures += 1
        kept = os.path.join(out, "failures", f"case{failures}.txt")
        with open(kept, "w") as f:
            f.write(shlex.join(["cnnrun"] + args) + "\n" + err)
        print(f"FAILED ({why}): cnnrun {shlex.join(args)[:300]}")
        if failures >= 20:
            break
print(f"mutate_cnnrun: {runs} command lines in {time.time() - start:.0f} s (seed {seed}), "
      f"{failures} failures; " + ", ".join(f"{k}: {v}" for k, v in outcomes.items()))
sys.exit(1 if failures else 0)
