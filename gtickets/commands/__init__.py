"""The two commands' library: launching an experiment (``launcher``, ``launches``) and
publishing the claims report (``jobs``, ``committed``, ``claims_report``, ``report``);
launch/main.py and launch/report.py are their command lines."""

# The report's one line when a stop came before it published (launch/report.py says it
# also for a stop during its imports, so it lives here, where nothing heavy is imported).
UNPUBLISHED = "interrupted: nothing was published (docs/ and the README are as they were)"
