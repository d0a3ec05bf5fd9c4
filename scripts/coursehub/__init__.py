"""coursehub: the admin/instructor command line and the hub-side logic it shares with hub_config."""
