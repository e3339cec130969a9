"""The two commands' library: launching an experiment (``launcher``, ``launches``) and
publishing the claims report (``jobs``, ``committed``, ``claims_report``, ``report``);
launch/main.py and launch/report.py are their command lines."""
