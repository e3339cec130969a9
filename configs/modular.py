"""Grokked tickets on any modular operation, with the MLP or the Transformer.

  python launch/main.py --config=configs/modular.py:a2_b2              # MLP
  python launch/main.py --config=configs/modular.py:add,transformer    # Transformer
  python launch/main.py --config=configs/modular.py:sub,transformer,quick
  python launch/main.py --config=configs/modular.py:add,transformer_appendix

The argument is the operation (gtickets/tasks/modular.py: add, sub, mul, div,
a2_b2, a2_ab_b2, a2_ab_b2_a, a3_ab, a2_ab2_b, random), then optionally the
architecture (mlp, the default, transformer, or transformer_appendix) and "quick"
(p = 23, 600 steps: a smoke run, 3 seeds). Everything else is the main experiment's
(configs/modadd.py), 5 seeds:
p = 67, pairs a > b, 40% train, AdamW lr 1e-3 wd 1, 30k full-batch steps,
k = 0.6. The Transformer has d_model = d_mlp = 128 and no positional embedding, as
the authors' code that made the paper's figures (gtickets/models/transformer.py says
why); ``transformer_appendix`` is the paper's appendix text instead: embedding width
d_model = 500 and a learned positional embedding (never pruned), d_mlp 128 as in the
code (the appendix gives no MLP width; its MLP biases are left out: no model here has
them). Workdir: workdirs/mod_<op>_<arch>.
"""
from configs import modadd
from gtickets.config import default_config

ARCHS = ("mlp", "transformer", "transformer_appendix")


def get_config(arg=None):
  parts = [a for a in (arg or "add").split(",") if a]
  op = parts[0]
  arch = next((a for a in parts[1:] if a in ARCHS), "mlp")
  unknown = [a for a in parts[1:] if a not in ARCHS + ("quick",)]
  if unknown:
    raise ValueError(f"unknown config argument {unknown[0]!r}; known: {ARCHS + ('quick',)}")
  quick = "quick" in parts[1:]
  c = modadd.get_config("quick" if quick else None)
  if quick:
    c.seeds = (0, 1, 2)
  if arch != "mlp":
    c.model = default_config(model="transformer").model
    if arch == "transformer_appendix":
      c.model.d_model, c.model.pos_embed = 500, True
    if quick:
      c.model.d_model = c.model.d_mlp = 32
  c.task.operation = op
  c.name = f"mod_{op}_{arch}" + ("_quick" if quick else "")
  return c
