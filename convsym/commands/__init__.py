"""CLI subcommands, one module each; :mod:`convsym.cli` registers them in order."""
