"""Where the command line prints: consoles that print text exactly as written.

Rich would read ``[bold]`` in a program title as markup and ``:100:`` in a message about
line 100 as an emoji; neither may ever alter what sim prints, so every console here has
markup and emoji off and styles are given explicitly.
"""

from __future__ import annotations

from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    """A console for tables and messages: no markup, no emoji, no highlighting."""
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False)
