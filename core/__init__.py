"""The Praxis kernel: everything every tenant shares."""

if __name__ != "praxis.core":  # one copy of every module, under its installed name
    raise ImportError("import praxis.core, not core: see README.md, Packaging")
