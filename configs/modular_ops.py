"""Several modular operations of one model as one batched program (the rows of C10).

The operations differ only in their labels, so every (operation, seed) trains in one
compiled program, each run on its own labels: a sweep over ``task.operation`` and the
seeds (experiments/sweep.py), dense runs then grokked tickets (k = 0.6), every run
trained bit for bit as the plain launch of its operation (configs/modular.py:OP,ARCH):
the same weights at every checkpoint and the same accuracies, so C10's cells are the
same; the evaluated losses can differ in the last bit (their sums are ordered otherwise
with data per run; tests/test_sweep.py). One program of 40 runs keeps both CPU devices
busy where eight launches of 5 runs each leave one device idle a run in three (5 runs
pad to 6): on 2 idle Intel Xeon cores the MLP's eight operations took 1,001 s as one
launch against 1,302 s as eight (benchmarks/README.md, from the reproduction's times).

  python launch/main.py --config=configs/modular_ops.py:mlp --workdir=workdirs/mod_ops_mlp

The argument picks the model and the operations (then optionally ``quick``, as in
configs/modular.py):
  * ``mlp``: the MLP on mul, a2_b2, sub, a2_ab_b2, a2_ab_b2_a, a3_ab, a2_ab2_b, random
    (add is configs/modadd.py's main run);
  * ``transformer``: the Transformer on those eight (add is configs/modular.py:add,
    transformer, whose workdir the progress measures read too);
  * ``transformer_layer``: the Transformer on add and mul, masks cut per matrix;
  * ``transformer_appendix``: the appendix's Transformer (width 500, positional
    embedding) on add and sub.
Division drops the pairs with b = 0, so it has other shapes and trains on its own
(configs/modular.py:div). Output: the sweep's table (sweep.md) and the phases
``dense`` and ``tickets``, whose runs name their operation.
"""
from configs import modular
from gtickets import experiments

OTHERS = ("mul", "a2_b2", "sub", "a2_ab_b2", "a2_ab_b2_a", "a3_ab", "a2_ab2_b", "random")
PRESETS = {  # argument -> (architecture, operations, ticket scope)
    "mlp": ("mlp", OTHERS, "global"),
    "transformer": ("transformer", OTHERS, "global"),
    "transformer_layer": ("transformer", ("add", "mul"), "layer"),
    "transformer_appendix": ("transformer_appendix", ("add", "sub"), "global"),
}


def get_config(arg=None):
  parts = [a for a in (arg or "mlp").split(",") if a]
  unknown = [a for a in parts if a not in tuple(PRESETS) + ("quick",)]
  if unknown or not parts or parts[0] not in PRESETS:
    raise ValueError(f"unknown config argument {(unknown or parts or [''])[0]!r}; known: "
                     f"{tuple(PRESETS)}, then optionally 'quick'")
  arch, ops, scope = PRESETS[parts[0]]
  quick = "quick" in parts[1:]
  c = modular.get_config(",".join([ops[0], arch] + (["quick"] if quick else [])))
  experiments.use(c, "sweep")
  c.name = f"mod_ops_{parts[0]}" + ("_quick" if quick else "")
  c.ticket.variants = ("grokked",)
  c.ticket.scope = scope
  c.sweep.axes = (("task.operation", ops), ("seed", tuple(c.seeds)))
  return c
