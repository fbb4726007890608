"""Built-in provider plugins. Each registers through the ``praxis`` entry-point group."""
