"""The one version number of st-jce: setup.cfg reads it from here (``version = attr: st_jce._version.__version__``)."""

__version__ = "0.1.0"
