"""The benchmarks' PyPI peers (PyTorch 2.x eager and torch.compile, ONNX
Runtime, OpenVINO), driven from the benchmark's own process: they run in a
worker process (bench/peer_worker.py) with build/bench-venv's python, made
by `bash scripts/bench-setup.sh`. Without that environment, or when a peer
fails to load, the peer is skipped with a message; the benchmark goes on.
The worker sits idle (blocked on its pipe) while the driver times cnnc and
Debian's PyTorch, so the rounds can alternate between all of them."""
import json
import os
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_PYTHON = os.path.join(ROOT, "build", "bench-venv", "bin", "python")


class Peers:
    def __init__(self, threads, enabled=True):
        self.process, self.names, self.skipped, self.versions = None, [], {}, {}
        if not enabled:
            self.note = "PyPI peers not requested"
            return
        if not os.path.exists(VENV_PYTHON):
            self.note = ("PyPI peers skipped: no build/bench-venv (bash scripts/bench-setup.sh "
                         "makes it)")
            return
        self.process = subprocess.Popen([VENV_PYTHON, os.path.join(HERE, "peer_worker.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.versions = self._call(cmd="setup", threads=threads)["versions"]
        self.note = "PyPI peers: " + ", ".join(f"{k} {v}" for k, v in self.versions.items())

    def _call(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the peer worker exited")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"] + "\n" + reply.get("trace", ""))
        return reply

    def load(self, **model):
        """Builds every peer for one network (weights, onnx, shape, batch,
        training, ...); returns the names of those that loaded."""
        self.names, self.skipped = [], {}
        if self.process:
            try:
                reply = self._call(cmd="load", **model)
                self.names, self.skipped = reply["peers"], reply["skipped"]
            except RuntimeError as e:
                self.skipped = {"PyPI peers": str(e).splitlines()[0]}
        return self.names

    def check(self, x, expected, work):
        """Max relative error of each peer's first output on `x`."""
        if not self.names:
            return {}
        np.save(os.path.join(work, "check_x.npy"), x)
        np.save(os.path.join(work, "check_y.npy"), expected)
        return self._call(cmd="check", input=os.path.join(work, "check_x.npy"),
                          expected=os.path.join(work, "check_y.npy"))["errors"]

    def time(self, name, seconds, calls=3):
        """(median, best) seconds per call of peer `name` (common.timed)."""
        reply = self._call(cmd="time", peer=name, seconds=seconds, calls=calls)
        return reply["median"], reply["best"]

    def close(self):
        if self.process:
            self.process.stdin.close()
            self.process.wait()
