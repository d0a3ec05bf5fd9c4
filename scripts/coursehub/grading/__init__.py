"""The grading engine, trusted side: admission, sandbox backends, the nbgrader
preprocessor, the parallel driver and the assembly of a sandbox's results.

Imports run one way: cli -> grading -> core (settings, gpus, datasets). Only payload/
runs inside a sandbox, and it imports nothing from here.
"""
