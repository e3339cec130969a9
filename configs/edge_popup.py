"""Edge-popup from memorizing weights (paper Sec. 5.3, Table 1; claim C8).

Base: the paper's MLP on (a + b) mod 67 with half the pairs for training (the
authors' edge-popup code uses frac_train 0.5), trained densely with lr 1e-2 and
no weight decay for 1,000 steps: it memorizes (train accuracy 1, test accuracy
~0.003). With weight decay 1 the 0.5 split base has already generalized by
step 1,000 (test 0.79 / 1.00 on seeds 0 / 1), and at this project's 0.4 split it
memorizes but the WD row is far slower than the paper's. From those weights,
2,000 steps of each variant, 5 seeds, all in one batched program, with the
authors' optimizer (one AdamW, lr 1e-2, over weights and scores): WD (dense
training, weight decay 1), EP w/o WD (weights frozen; only the scores of a
per-matrix mask keeping 40% (k = 0.6, as the authors) learn, no decay), EP w/ WD
(scores and weights learn, weight decay 1 on both). Test accuracy at steps
600 / 1,000 / 1,400 / 2,000 beside the paper's:

  python launch/main.py --config=configs/edge_popup.py
"""
from configs import modadd


def get_config(arg=None):
  c = modadd.get_config(arg)
  c.name = "edge_popup" + ("_quick" if arg == "quick" else "")
  c.experiment = "edge_popup"
  c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 2_000, 100, 500
  c.task.train_fraction = 0.5
  c.edge_popup.base_weight_decay = 0.0
  if arg == "quick":
    c.edge_popup.base_step = 200
    c.edge_popup.report_steps = (100, 200, 300, 400)
    c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 400, 50, 200
  return c
