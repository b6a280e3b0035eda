"""The parameters: the typed schema of every setting, its checks, and composition from ``conf/``."""
