"""JupyterHub plugins the hub process loads: the authenticator and the spawners."""
