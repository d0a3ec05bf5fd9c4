"""The only coursehub code that runs inside a grading sandbox.

It needs the standard library, nbformat, nbclient and jupyter_client (all in the student
image) and imports nothing else of coursehub: modules here import each other relatively,
because inside the sandbox this package is ``coursehub_payload``, loaded from memory by
bootstrap.py, and on the trusted side it is ``coursehub.grading.payload``.
"""
