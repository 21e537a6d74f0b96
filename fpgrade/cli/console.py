"""The two rich consoles of the command line: results on stdout, messages on stderr."""

from rich.console import Console

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def print_json(data: object) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))
