"""Training: one compiled program trains a batch of masked runs."""
from gtickets.training.trainer import Trainer, make_optimizer, make_trainer
from gtickets.training.measures import first_reach, run_measures

__all__ = ["Trainer", "make_optimizer", "make_trainer", "first_reach", "run_measures"]
