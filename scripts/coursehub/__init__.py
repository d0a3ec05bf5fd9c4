"""coursehub's trusted code: settings and course logic, the hub's plugins (hub/), the
grading engine (grading/) and the admin/instructor command line (cli/).

Nothing here is installed into a student image; only grading/payload/ is shipped into a
grading sandbox.
"""
