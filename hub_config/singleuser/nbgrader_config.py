"""nbgrader settings for every student server (local processes and docker containers alike)."""

import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821
c.Exchange.root = os.environ.get("COURSEHUB_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
# Several courses share one exchange; each has its own folder in it.
c.Exchange.path_includes_course = True
# The hub's groups (nbgrader-<course>) say which courses a student is enrolled in.
c.Authenticator.plugin_class = JupyterHubAuthPlugin
# Submissions are named after the hub user, whatever the account's name on this machine.
c.CourseDirectory.student_id = os.environ.get("JUPYTERHUB_USER", "*")
# Submissions readable by their student and the grader only (see coursehub_student/exchange.py).
c.ExchangeFactory.submit = "coursehub_student.exchange.PrivateExchangeSubmit"
# Feedback is fetched without following links (see coursehub_student/exchange.py).
c.ExchangeFactory.fetch_feedback = "coursehub_student.exchange.PrivateExchangeFetchFeedback"
