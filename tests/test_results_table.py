import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).parents[1] / "launch" / "results_table.py"
_spec = importlib.util.spec_from_file_location("results_table", _PATH)
results_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_table)

_HEADER = "run,variant,seed,t_gen,final_test_acc\n"


def _summary(path, lines):
  path.mkdir(parents=True)
  (path / "summary.csv").write_text(_HEADER + "".join(l + "\n" for l in lines))


def test_rows_from_jobs_and_summaries_unfinished_left_out(tmp_path):
  jobs = tmp_path / "jobs.txt"
  jobs.write_text("# comment\nmod_mul_transformer_layer --config=configs/modular.py:mul,transformer "
                  "--config.ticket.scope=layer\nmod_sub_mlp --config=configs/modular.py:sub\n")
  w = tmp_path / "w" / "mod_mul_transformer_layer"
  _summary(w / "dense", ["1,dense,1,,0.851", "0,dense,0,1000,0.99", "2,dense,2,3000,0.97"])
  _summary(w / "tickets", ["0,grokked,0,,0.5", "1,random,0,200,0.99"])
  lines = results_table.table(str(jobs), str(tmp_path / "w")).splitlines()
  assert len(lines) == 3  # header, rule, one finished row (mod_sub_mlp has no workdir)
  assert lines[2] == (
      "| (a * b) mod 67 | Transformer, layer-wise masks "
      "| 2,000 +- 1,000 (2/3) [1,000 / - / 3,000; final 0.99 / 0.85 / 0.97] "
      "| not reached [-; final 0.50] "
      "| `python launch/main.py --config=configs/modular.py:mul,transformer "
      "--config.ticket.scope=layer --workdir=workdirs/mod_mul_transformer_layer` |")


def test_labels():
  assert results_table.label("mod_random_mlp") == ("random table mod 67", "MLP")
  assert results_table.label("mod_a2_ab_b2_a_transformer") == ("(a^2 + ab + b^2 + a) mod 67", "Transformer")
  assert results_table.label("parity") == ("sparse parity (3 of 40)", "MLP 40-256-2")
