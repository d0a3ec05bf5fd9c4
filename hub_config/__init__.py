"""JupyterHub configuration, one module per concern; each only sets values on ``c``."""
