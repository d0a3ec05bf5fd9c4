"""What a student's Jupyter server imports from coursehub: the private exchange plugin.

This package and ``autograders`` (the checks) are all of coursehub that a student image
carries; nothing here imports the trusted ``coursehub`` package.
"""
