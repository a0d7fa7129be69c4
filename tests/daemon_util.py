"""daemon_util.py — shared helpers for the daemon's integration tests
(tests/test_daemon_*.py): synthetic clips made with the ffmpeg CLI, config
files, starting `lmdd run`, a ZeroMQ subscriber that records every multipart
message, and the PASS/FAIL lines tests/run.sh counts.

The synthetic anomaly is a 48x48 patch of random black/white pixels moving
over a grey, lightly noisy field: the fixture model
(tests/fixtures/daemon-gray.safetensors, see tests/make_daemon_fixture.sh)
was trained on the field alone and cannot inpaint the patch, so its frames
score ~25x higher than normal ones.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import zmq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
B = os.environ.get("B", "build")
LMDD = os.path.join(ROOT, B, "lmdd")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "daemon-gray.safetensors")
THRESHOLD = 0.002   # normal ~0.0003, anomalous ~0.006

failures = 0


def check(name, ok, detail=""):
    """Print the line tests/run.sh counts."""
    global failures
    print(("PASS " if ok else "FAIL ") + name, flush=True)
    if not ok:
        failures += 1
        if detail:
            print("  " + str(detail)[:2000], flush=True)
    return ok


def done():
    sys.exit(1 if failures else 0)


def tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_model(path, *args):
    """A random-weight model file (tests/make_model.py) of the fixture's
    shape: 48x32 gray, base 8, mults 1,2, no attention; args add options
    (--cond 2, --seed 5, ...). Returns (ok, stderr)."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "make_model.py"), path, "--base", "8",
                        "--mult", "1,2", "--attn", "", "--groups", "4", "--frame", "32x48", *args],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr[-1000:]


def free_port(kind=None):
    """A port on 127.0.0.1 that was free a moment ago (kind: socket type,
    default TCP)."""
    import socket
    s = socket.socket(socket.AF_INET, kind or socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_clip(path, seconds=4, fps=10, anomaly=None, size="192x128"):
    """A grey noisy field; anomaly=(t0, t1) adds the moving noise patch."""
    bg = f"color=c=0x404040:s={size}:r={fps}:d={seconds}"
    if anomaly is None:
        ffmpeg("-f", "lavfi", "-i", bg, "-vf", "noise=alls=6:allf=t,format=yuvj420p",
               "-c:v", "mjpeg", "-q:v", "3", path)
        return
    t0, t1 = anomaly
    patch = f"nullsrc=s=48x48:r={fps}:d={seconds},format=gray,geq=lum='255*gt(random(1),0.5)'"
    ffmpeg("-f", "lavfi", "-i", bg, "-f", "lavfi", "-i", patch, "-filter_complex",
           f"[0]noise=alls=6:allf=t[bg];[bg][1]overlay=x='20+(t-{t0})*40':y=40:"
           f"enable='between(t,{t0},{t1})',format=yuvj420p",
           "-c:v", "mjpeg", "-q:v", "3", path)


def write_config(path, streams, **daemon):
    """streams: {name: {key: value}}; daemon: [daemon] keys (defaults suit
    the fixture model)."""
    d = dict(model=FIXTURE, backend="cpu", steps=3, reps=2, t0=300, status_interval=1,
             update_interval=0.5, log_level="info", linger=1)
    d.update(daemon)
    with open(path, "w") as f:
        f.write("[daemon]\n")
        for k, v in d.items():
            f.write(f"{k} = {v}\n")
        for name, keys in streams.items():
            f.write(f"\n[stream {name}]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
    return path


class Subscriber:
    """Collects (topic, parts) from a SUB socket in a thread."""

    def __init__(self, endpoint, topics=(b"",), curve=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:
            server_pub, client_pub, client_sec = curve
            self.sock.curve_serverkey = server_pub
            self.sock.curve_publickey = client_pub
            self.sock.curve_secretkey = client_sec
        for t in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, t)
        # Tests connect before the daemon binds; a PUB socket drops what it
        # sends before the subscription arrives (slow joiner). libzmq retries
        # a refused connect every RECONNECT_IVL (100 ms by default), long
        # enough for a fast machine to score and publish the first events.
        self.sock.setsockopt(zmq.RECONNECT_IVL, 5)
        self.sock.connect(endpoint)
        self.msgs = []
        self.lock = threading.Lock()
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            if self.sock.poll(100):
                parts = self.sock.recv_multipart()
                with self.lock:
                    self.msgs.append((time.monotonic(), parts))

    def messages(self, topic_prefix=b""):
        with self.lock:
            return [p for _, p in self.msgs if p[0].startswith(topic_prefix)]

    def events(self, stream=None):
        out = []
        for p in self.messages(b"lmdd.event."):
            j = json.loads(p[1])
            if stream is None or j.get("stream") == stream:
                out.append((j, p))
        return out

    def statuses(self):
        return [json.loads(p[1]) for p in self.messages(b"lmdd.status")]

    def wait_for(self, pred, timeout):
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            if pred():
                return True
            time.sleep(0.1)
        return pred()

    def close(self):
        self.stop = True
        self.th.join()
        self.sock.close()
        self.ctx.term()


def stream_status(st, name):
    for s in st.get("streams", []):
        if s["name"] == name:
            return s
    return None


class Daemon:
    def __init__(self, config, args=(), env=None, log=None):
        e = dict(os.environ)
        # OpenMP threads that spin-wait crawl when the CPU is shared (10x
        # slower on a busy 2-core machine); the unit file sets the same.
        e.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        e.update(env or {})
        self.log_path = log or (config + ".log")
        self.logf = open(self.log_path, "w")
        self.p = subprocess.Popen([LMDD, "run", "--config", config, *args], stdout=self.logf,
                                  stderr=subprocess.STDOUT, env=e)

    def signal(self, sig):
        self.p.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def run_to_end(self, timeout):
        """For `--exit-at-end`: its exit status, or None (then stopped) if
        it was still running after timeout seconds."""
        rc = self.wait(timeout)
        if rc is None:
            self.stop()
        else:
            self.logf.close()
        return rc

    def stop(self, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.p.kill()
            rc = self.p.wait()
        self.logf.close()
        return rc

    def log(self):
        if not self.logf.closed:
            self.logf.flush()
        with open(self.log_path) as f:
            return f.read()
