"""Throughput of the modadd MLP against the machine's matmul limit, R = 1 ... 4096 runs.

  python benchmarks/scale.py [--runs=1,4,16,64,256,1024,4096] [--steps=100]
                             [--precisions=highest,default] [--sequential_upto=16]
                             [--orders=cheapest,batch_first] [--vmap_runs=-1]
                             [--rss_runs=64] [--out=benchmarks/scale_<platform>.json]

In one process, for each matmul precision (``jax_default_matmul_precision``, as
``config.matmul_precision``) and each contraction order (``model.contraction``,
models/contraction.py; the old "batch_first" beside the default "cheapest", so
the speed-up is a ratio measured in one run):
  * the device's matmul peak: best of several square float32 matmuls (n = 2048 on
    CPU, 8192 on a GPU/TPU) at that precision, FLOP/s = 2 n^3 / time;
  * for each R: R runs of the default config (different seeds, dense masks, full
    batch) trained ``--steps`` steps as one jit-compiled, vmapped, scanned program,
    the run axis padded and spread over every device as the launcher does
    (training/sharding.py); best of ``--repeats`` after a warm-up. Reported:
    run-steps/s, achieved FLOP/s (XLA's cost analysis of one run's step x
    run-steps/s), that as a fraction of the matmul peak, the time per run-step
    against the matmul limit (the FLOPs of the cheapest order's step, the
    fewest the model needs, / peak; "x limit" = how many times slower than a
    machine that only did those FLOPs at peak, for every order alike), XLA's memory analysis of the
    compiled program per run, and, for R <= ``--sequential_upto``, the same R runs
    one after another (the batching speed-up).
R stops growing once a program does not fit (the error is recorded). With
``--rss_runs`` R > 0, a child process trains an R-run batch for ``--steps`` steps
and reports its peak resident memory (the "64-run sweep in <= 2 GB" goal).
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys

import jax
import jax.numpy as jnp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.sharding import run_layout  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402
from timing import interleaved_best  # noqa: E402


def best_time(fn, repeats):
  jax.block_until_ready(fn())  # warm-up (compile)
  return interleaved_best({"fn": fn}, repeats)["fn"]


def matmul_peak(n, repeats=5):
  """FLOP/s of an n x n float32 matmul at the current default precision, spread
  over every device (one matmul per device)."""
  layout = run_layout(len(jax.devices()))
  keys = jax.random.split(jax.random.key(0), len(jax.devices()))
  a = layout.place(jax.vmap(lambda k: jax.random.normal(k, (n, n), jnp.float32))(keys))
  f = jax.jit(jax.vmap(lambda x: x @ x))
  return 2 * n ** 3 * len(jax.devices()) / best_time(lambda: f(a), repeats)


def batch(setup, r):
  """(state, masks) of r runs, placed as the launcher places them."""
  layout = run_layout(r)
  params = setup.trainer.init_params(init_keys(list(range(r))))
  masks = jax.vmap(masks_lib.ones_like)(params)
  params, masks = layout.place((params, masks))
  return setup.trainer.init_state(params, masks), masks, layout


def flops_per_run_step(setup):
  state, masks, _ = batch(setup, 1)
  one = lambda t: jax.tree.map(lambda x: x[0], t)
  cost = jax.jit(setup.trainer.step).lower(one(state), one(masks), setup.data).compile() \
      .cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost["flops"])


def memory_per_run(setup, state, masks, r):
  """Bytes per run of the compiled chunk (arguments + outputs + temporaries), from
  XLA's memory analysis; None where the backend does not give it."""
  try:
    fn = jax.jit(jax.vmap(lambda s, m: setup.trainer.step(s, m, setup.data)))
    m = fn.lower(state, masks).compile().memory_analysis()
    total = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
    return total / r
  except Exception:  # pylint: disable=broad-except
    return None


def rss_child(runs, steps):
  """Peak resident memory (bytes) of a fresh process training ``runs`` runs."""
  code = (f"import sys; sys.argv=['x']; sys.path[:0] = [{ROOT!r}, {ROOT + '/benchmarks'!r}];"
          "import benchmarks.scale as s, jax, resource;"
          "from configs.modadd import get_config;"
          "from gtickets.experiment.pipeline import make_setup;"
          f"c = get_config(); c.train.eval_every = {steps}; setup = make_setup(c);"
          f"st, m, _ = s.batch(setup, {runs});"
          "jax.block_until_ready(setup.trainer.train_chunk(st, m, setup.data, 1));"
          # VmHWM: this program's peak RSS (ru_maxrss would carry the parent's
          # RSS at fork time over the exec)
          "print(next(int(l.split()[1]) * 1024 for l in open('/proc/self/status')"
          " if l.startswith('VmHWM')))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, timeout=1800)
  if out.returncode:
    return {"runs": runs, "error": out.stderr.strip().splitlines()[-1]}
  return {"runs": runs, "steps": steps, "peak_rss_bytes": int(out.stdout.split()[-1])}


def markdown(info):
  """The scaling table of a benchmark JSON as markdown."""
  lines = [f"{info['device']} ({info['backend']}, jax {info['jax']}), {info['steps']} steps "
           "per timed call, best of the repeats after a warm-up, the contraction orders "
           f"timed in turn (train.vmap_runs = {info.get('vmap_runs', 0)}).", ""]
  for t in info["tables"]:
    minimal = t.get("minimal_flops_per_run_step", t["flops_per_run_step"])
    lines += [f"matmul precision **{t['matmul_precision']}**, contraction order "
              f"**{t.get('contraction', 'batch_first')}**: matmul peak "
              f"{t['matmul_peak_flops'] / 1e9:.1f} GFLOP/s (n = {t['matmul_n']}); "
              f"{t['flops_per_run_step'] / 1e6:.1f} MFLOP per run-step (XLA cost analysis; "
              f"the limit uses the cheapest order's {minimal / 1e6:.1f})", "",
              "| runs R | run-steps/s | ms per run-step | % of matmul peak (its own FLOPs) "
              "| x matmul limit | MiB per run (XLA) | batched / one by one "
              "| speed-up over batch_first |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in t["rows"]:
      if "error" in r:
        lines.append(f"| {r['runs']} | does not fit: {r['error'][:80]} | | | | | | |")
        continue
      mem = r.get("bytes_per_run")
      lines.append(f"| {r['runs']} | {r['run_steps_per_s']:,.1f} | {r['ms_per_run_step']:.3f} | "
                   f"{100 * r['fraction_of_peak']:.1f} | {r['x_limit']:.2f} | "
                   + (f"{mem / 2 ** 20:.1f}" if mem else "-") + " | "
                   + (f"{r['batching_speedup']:.2f}" if "batching_speedup" in r else "-") + " | "
                   + (f"{r['speedup_over_batch_first']:.2f}" if "speedup_over_batch_first" in r
                      else "-") + " |")
    lines.append("")
  rss = info.get("rss")
  if rss:
    rss = rss if isinstance(rss, list) else [rss]
    got = [r["peak_rss_bytes"] / 2 ** 30 for r in rss if "peak_rss_bytes" in r]
    lines.append(f"Peak resident memory of a fresh process training {rss[0]['runs']} runs: "
                 + ", ".join(f"{g:.2f}" for g in got) + " GiB.")
  return "\n".join(lines) + "\n"


def measure_r(args, setups, r, flops_of, minimal, peak):
  """{order: row} for R = r runs, the orders timed in turn (interleaved)."""
  placed = {o: batch(s, r) for o, s in setups.items()}
  chunk = lambda o: setups[o].trainer.train_chunk(placed[o][0], placed[o][1], setups[o].data, 1)[1]
  for o in setups:
    jax.block_until_ready(chunk(o))  # compile
  times = interleaved_best({o: (lambda o=o: chunk(o)) for o in setups}, args.repeats)
  rows = {}
  for o, setup in setups.items():
    state, masks, layout = placed[o]
    t, flops = times[o], flops_of[o]
    rate = r * args.steps / t
    row = {"runs": r, "padded_runs": layout.n_padded, "seconds": t,
           "run_steps_per_s": rate, "gflops": flops * rate / 1e9,
           "fraction_of_peak": flops * rate / peak,
           "ms_per_run_step": 1e3 / rate, "limit_ms_per_run_step": 1e3 * minimal / peak,
           "x_limit": peak / (minimal * rate),
           "bytes_per_run": memory_per_run(setup, state, masks, r)}
    if r <= args.sequential_upto:
      singles = [jax.tree.map(lambda x, i=i: x[i:i + 1], (state, masks)) for i in range(r)]
      seq = best_time(lambda: [setup.trainer.train_chunk(s, m, setup.data, 1)[1]
                               for s, m in singles], args.repeats)
      row["sequential_run_steps_per_s"] = r * args.steps / seq
      row["batching_speedup"] = seq / t
    rows[o] = row
  if "batch_first" in times:
    for o in rows:
      rows[o]["speedup_over_batch_first"] = times["batch_first"] / times[o]
  return rows


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", default="1,4,16,64,256,1024,4096")
  ap.add_argument("--steps", type=int, default=100)
  ap.add_argument("--repeats", type=int, default=3)
  ap.add_argument("--precisions", default="highest,default")
  ap.add_argument("--orders", default="cheapest,batch_first",
                  help="model.contraction values, timed side by side")
  ap.add_argument("--vmap_runs", type=int, default=-1,
                  help="train.vmap_runs: -1 by backend, 0 one vmap over all runs, G: groups of G")
  ap.add_argument("--sequential_upto", type=int, default=16)
  ap.add_argument("--rss_runs", type=int, default=64)
  ap.add_argument("--max_seconds", type=float, default=120,
                  help="stop growing R once one timed call takes longer than this")
  ap.add_argument("--out", default=None)
  ap.add_argument("--table_from", default=None,
                  help="print the markdown table of an earlier run's JSON and exit")
  args = ap.parse_args()
  if args.table_from:
    with open(args.table_from) as f:
      print(markdown(json.load(f)), end="")
    return
  backend = jax.default_backend()
  out = args.out or os.path.join(ROOT, "benchmarks", f"scale_{backend}.json")
  n = 2048 if backend == "cpu" else 8192

  info = {"device": f"{len(jax.devices())} x {jax.devices()[0].device_kind}",
          "backend": backend, "platform": platform.platform(), "cpu_count": os.cpu_count(),
          "cpus_usable": len(os.sched_getaffinity(0)), "jax": jax.__version__,
          "steps": args.steps, "vmap_runs": args.vmap_runs, "tables": []}
  for precision in args.precisions.split(","):
    with jax.default_matmul_precision(precision):
      setups = {}
      for order in args.orders.split(","):
        config = get_config()
        config.train.eval_every = args.steps  # one chunk = `steps` steps + one evaluation
        config.model.contraction = order
        config.train.vmap_runs = args.vmap_runs
        setups[order] = make_setup(config)
      peak = matmul_peak(n)
      flops_of = {o: flops_per_run_step(s) for o, s in setups.items()}
      minimal = min(flops_of.values())
      print(f"[{precision}] matmul peak {peak / 1e9:.1f} GFLOP/s (n={n}); MFLOP per run-step: "
            + ", ".join(f"{o} {f / 1e6:.1f}" for o, f in flops_of.items()), flush=True)
      tables = {o: {"matmul_precision": precision, "contraction": o, "matmul_peak_flops": peak,
                    "matmul_n": n, "flops_per_run_step": flops_of[o],
                    "minimal_flops_per_run_step": minimal, "rows": []} for o in setups}
      for r in [int(x) for x in args.runs.split(",")]:
        try:
          rows = measure_r(args, setups, r, flops_of, minimal, peak)
        except Exception as e:  # pylint: disable=broad-except
          for t in tables.values():
            t["rows"].append({"runs": r, "error": str(e).splitlines()[0][:300]})
          print(f"R={r}: does not fit ({str(e).splitlines()[0][:100]})", flush=True)
          break
        for o, row in rows.items():
          tables[o]["rows"].append(row)
          mem = row["bytes_per_run"]
          print(f"R={r:5d} {o:12s} {row['run_steps_per_s']:10.1f} run-steps/s "
                f"{row['ms_per_run_step']:7.3f} ms  x{row['x_limit']:.2f} limit"
                + (f"  {mem / 2 ** 20:.1f} MiB/run" if mem else "")
                + (f"  batching x{row['batching_speedup']:.2f}" if "batching_speedup" in row
                   else "")
                + (f"  x{row['speedup_over_batch_first']:.2f} over batch_first"
                   if "speedup_over_batch_first" in row else ""), flush=True)
        if max(row["seconds"] for row in rows.values()) > args.max_seconds:
          break
      info["tables"] += list(tables.values())
  if args.rss_runs:  # three fresh processes: peak RSS varies between them
    info["rss"] = [rss_child(args.rss_runs, args.steps) for _ in range(3)]
    got = [r["peak_rss_bytes"] / 2 ** 30 for r in info["rss"] if "peak_rss_bytes" in r]
    print(f"peak RSS of a fresh process training {args.rss_runs} runs (3 processes): "
          + (", ".join(f"{g:.2f}" for g in got) + " GiB" if got else info["rss"][0]["error"]),
          flush=True)
  info["self_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
  with open(out, "w") as f:
    json.dump(info, f, indent=1)
  with open(out[:-len(".json")] + ".md", "w") as f:
    f.write(markdown(info))
  print(f"wrote {out} and its table {out[:-len('.json')]}.md")


if __name__ == "__main__":
  main()
