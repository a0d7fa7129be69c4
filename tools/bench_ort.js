#!/usr/bin/env node
// bench_ort.js — the ONNX Runtime (CPU) peer of tools/bench.py: the same LMD
// work as the engine and the PyTorch peer, on the same model exported from
// train/unet.py with torch.onnx (bench.py does the export).
//
//   node tools/bench_ort.js ORT_DIR MODEL.onnx JOB.json
//
// ORT_DIR holds node_modules/onnxruntime-node (npm's package ships the
// runtime library itself; installed outside git by `make bench-ort`:
// `ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix ORT_DIR onnxruntime-node`).
// JOB.json: {n, reps, H, W, runs, threads, tau: [steps, ascending], abar: [ᾱ at tau]}.
// The loop is train/lmd_ref.py's (bench.py's torch_bench): noise to the start
// level, then per DDIM step the known pixels re-noised, one network evaluation
// of the whole batch (n images x reps attempts), the deterministic DDIM update;
// the element-wise work in plain JS typed arrays (under 1% of the time here).
// First the export is checked: ONNX Runtime's eps for MODEL.onnx.x at steps
// check_t against PyTorch's (MODEL.onnx.eps, written by bench.py), as a
// normalised MSE; above 1e-8 is an error (not the same model).
// Prints one JSON line like tool_bench: median seconds per call and per image,
// peak RSS, the runtime's version and execution provider, the check's nmse.
"use strict";
const path = require("path");
const fs = require("fs");

async function main() {
  const [ortDir, onnxPath, jobPath] = process.argv.slice(2);
  const ort = require(path.join(path.resolve(ortDir), "node_modules", "onnxruntime-node"));
  const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
  const { n, reps, H, W, runs, threads, tau, abar } = job;
  const B = n * reps, HW = H * W, len = B * HW;
  const sess = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // idle threads sleep, as every contender's OpenMP threads do (OMP_WAIT_POLICY=passive):
    // spinning pools lose badly on a shared machine
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  });
  const f32 = (p) => { const b = fs.readFileSync(p); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
  const cx = f32(onnxPath + ".x"), ce = f32(onnxPath + ".eps");
  const cout = await sess.run({
    x: new ort.Tensor("float32", cx, [B, 1, H, W]),
    t: new ort.Tensor("int64", BigInt64Array.from(job.check_t.map(BigInt)), [B]),
  });
  const got = cout[sess.outputNames[0]].data;
  let num = 0, den = 0;
  for (let i = 0; i < ce.length; i++) { num += (got[i] - ce[i]) ** 2; den += ce[i] ** 2; }
  const nmse = num / den;
  if (!(nmse <= 1e-8)) throw new Error(`ONNX Runtime's eps differs from PyTorch's: nmse ${nmse}`);
  // images in [0, 1]; masks: checkerboard 8 x 8, attempt r inpaints blocks with (by + bx + r) even
  const img = new Float32Array(n * HW).map(() => Math.random());
  const m = new Float32Array(len);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const by = Math.floor((y * 8) / H), bx = Math.floor((x * 8) / W);
        m[b * HW + y * W + x] = (by + bx + (b % reps)) % 2 !== 0 ? 1 : 0;
      }
  const gauss = (a) => {   // Box-Muller
    for (let i = 0; i < a.length; i += 2) {
      const u = 1 - Math.random(), v = Math.random(), r = Math.sqrt(-2 * Math.log(u));
      a[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    return a;
  };
  const S = tau.length, z = new Float32Array(len);
  const ab = (k) => (k < 0 ? 1.0 : abar[k]);

  async function once() {
    const x0 = new Float32Array(len);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < HW; i++) x0[b * HW + i] = 2 * img[Math.floor(b / reps) * HW + i] - 1;
    let x = new Float32Array(len);
    const a = ab(S - 1);
    gauss(z);
    for (let i = 0; i < len; i++) x[i] = Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * z[i];
    for (let k = S - 1; k >= 0; k--) {
      const at = ab(k), ap = ab(k - 1), sa = Math.sqrt(1 - at), ra = Math.sqrt(at);
      gauss(z);
      for (let i = 0; i < len; i++) x[i] = m[i] * (ra * x0[i] + sa * z[i]) + (1 - m[i]) * x[i];
      const t = new BigInt64Array(B).fill(BigInt(tau[k]));
      const out = await sess.run({ x: new ort.Tensor("float32", x, [B, 1, H, W]), t: new ort.Tensor("int64", t, [B]) });
      const e = out[sess.outputNames[0]].data;
      const nx = new Float32Array(len);
      for (let i = 0; i < len; i++) {
        let x0p = (x[i] - sa * e[i]) / ra;
        x0p = x0p < -1 ? -1 : x0p > 1 ? 1 : x0p;
        const ep = (x[i] - ra * x0p) / sa;
        nx[i] = Math.sqrt(ap) * x0p + Math.sqrt(1 - ap) * ep;
      }
      x = nx;
    }
    let s = 0;   // one score, so the work is not dead
    for (let i = 0; i < len; i++) {
      const rec = Math.min(1, Math.max(0, ((m[i] * x0[i] + (1 - m[i]) * x[i]) + 1) / 2));
      const d = rec - img[Math.floor(i / (reps * HW)) * HW + (i % HW)];
      s += (1 - m[i]) * d * d;
    }
    return s;
  }

  const times = [];
  let s0 = 0;
  for (let r = 0; r < runs + 1; r++) {   // run 0 warms up
    const t0 = process.hrtime.bigint();
    s0 = await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const ts = times.slice(1).sort((p, q) => p - q);
  const med = ts.length % 2 ? ts[(ts.length - 1) / 2] : (ts[ts.length / 2 - 1] + ts[ts.length / 2]) / 2;
  const ver = require(path.join(path.resolve(ortDir), "node_modules", "onnxruntime-node", "package.json")).version;
  console.log(JSON.stringify({
    backend: "onnxruntime", device: `onnxruntime-node ${ver} cpu (${threads} threads)`, seconds: med,
    per_image: med / n, maxrss_mb: process.resourceUsage().maxRSS / 1024, score_sum: s0, check_nmse: nmse,
  }));
}

main().catch((e) => {
  console.error(`bench_ort.js: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
