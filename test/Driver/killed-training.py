# RUN: %python %s %cnnc %cnnrun %examples %t
"""cnnrun train killed (kill -9) again and again, at moments spread over its
epochs and so also during checkpoint saves: after every kill the checkpoint
loads and the run resumes; the finished run's log has each epoch once, in
order, and no temporary file is left beside the checkpoint."""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

cnnc, cnnrun, examples, out = sys.argv[1:5]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
model, ck, log = (os.path.join(out, n) for n in ("fm.so", "ck.safetensors", "log.csv"))
subprocess.run([cnnc, os.path.join(examples, "fashion_mnist.cnn"), "-o", model], check=True)
epochs = 12
train = [cnnrun, "train", model, "--limit", "640", "--batch", "64", "--epochs", str(epochs),
         "--checkpoint", ck, "--log", log, "--resume", "--threads", "1"]

failures = []
def check(ok, what):
    if not ok:
        failures.append(what)

rng = random.Random(int(os.environ.get("CNNC_TEST_SEED", "1")))
kills = 0
for attempt in range(12):
    p = subprocess.Popen(train, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(rng.uniform(0.3, 1.5))
    if p.poll() is not None:
        break  # finished before the kill
    p.send_signal(signal.SIGKILL)
    p.wait()
    kills += 1
    if os.path.exists(ck):
        r = subprocess.run([cnnrun, "predict", model, "--weights", ck, "--idx",
                            "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                            "--limit", "4"], capture_output=True, text=True)
        check(r.returncode == 0, f"after kill {kills} the checkpoint does not load: {r.stderr}")
r = subprocess.run(train, capture_output=True, text=True)
check(r.returncode == 0, f"the last resume failed: {r.stderr}")
check(kills >= 3, f"only {kills} kills: the run was too fast to test anything")
lines = open(log).read().splitlines()
check(lines[0].startswith("epoch,"), f"log header: {lines[:1]}")
logged = [int(l.split(",")[0]) for l in lines[1:]]
check(logged == list(range(1, epochs + 1)), f"epochs in the log: {logged}")
left = [n for n in os.listdir(out) if ".tmp-" in n]
check(not left, f"left beside the checkpoint: {left}")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"killed training: {kills} kills, checkpoint loads after each, log has epochs 1..{epochs} once")
