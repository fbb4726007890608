"""Built-in provider plugins. Each registers through the ``praxis`` entry-point group."""

if __name__ != "praxis.plugins":  # one copy of every module, under its installed name
    raise ImportError("import praxis.plugins, not plugins: see README.md, Packaging")
