"""fpgrade's built-in plugins (importable as ``fpgrade_plugins``).

They are found through the ``fpgrade`` entry-point group in fpgrade's own ``pyproject.toml``,
exactly as a third-party package's plugins are: nothing in the core imports this package.
"""
