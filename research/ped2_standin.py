"""ped2_standin.py — a few seconds of synthetic video laid out like
../shared/data/ucsd-ped2 (test/NN.mkv, train/NN.mkv, test-labels.csv), for
the tests of the research/ped2_*.py study tools. Clips are FFmpeg's testsrc at
96x64 and 10 fps (as Ped2), each clip a different hue, in FFV1 (lossless)."""
import csv
import os
import subprocess


def make(d, test=("01", "02"), train=(), seconds=0.7, anomalous=lambda clip, k: 0):
    """writes the clips under d; anomalous(clip, frame) gives each test label."""
    for sub, names in (("test", test), ("train", train)):
        if names:
            os.makedirs(os.path.join(d, sub))
        for i, n in enumerate(names):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"testsrc=s=96x64:r=10:d={seconds},hue=h={60 * i}", "-c:v", "ffv1",
                            os.path.join(d, sub, n + ".mkv")], check=True)
    with open(os.path.join(d, "test-labels.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["clip", "frame", "anomalous"])
        for c in test:
            for k in range(round(seconds * 10)):
                w.writerow([c, k, int(anomalous(c, k))])
