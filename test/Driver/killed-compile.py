# RUN: %python %s %cnnc %examples %t
"""cnnc killed (kill -9) while it generates code: the earlier model.so and
model.h stay whole, and the next run removes the killed run's work
directory; nothing of either run is left in TMPDIR or beside the output."""
import os
import shutil
import signal
import subprocess
import sys
import time

cnnc, examples, out = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(out, ignore_errors=True)
tmp = os.path.join(out, "tmp")
os.makedirs(tmp)
env = dict(os.environ, TMPDIR=tmp)
model = os.path.join(out, "m.so")
source = os.path.join(examples, "fashion_mnist.cnn")
subprocess.run([cnnc, source, "-o", model], check=True, env=env)
before = {name: open(os.path.join(out, name), "rb").read() for name in ("m.so", "m.h")}

failures = []
def check(ok, what):
    if not ok:
        failures.append(what)

# --no-cache: every function is compiled, long enough to be killed midway.
p = subprocess.Popen([cnnc, source, "-o", model, "--no-cache", "-j", "1"], env=env)
deadline = time.time() + 60
while time.time() < deadline and not os.listdir(tmp):
    time.sleep(0.05)
time.sleep(0.5)
p.send_signal(signal.SIGKILL)
p.wait()
left = os.listdir(tmp)
check(any(n.startswith(f"cnnc-{p.pid}-") for n in left),
      f"the killed run had a work directory to leave behind: {left}")
for name, data in before.items():
    check(open(os.path.join(out, name), "rb").read() == data, f"{name} changed")

subprocess.run([cnnc, source, "-o", model], check=True, env=env)
check(os.listdir(tmp) == [], f"left in TMPDIR after the next run: {os.listdir(tmp)}")
beside = sorted(n for n in os.listdir(out) if n != "tmp")
check(beside == ["m.h", "m.so"], f"beside the output: {beside}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("killed compile: earlier files whole, work directory removed by the next run")
