"""MkDocs hooks (mkdocs.yml ``hooks:``): pages generated from the code at build time.

- ``<!-- cli-reference -->`` in a page becomes the command line reference, made from the argparse
  parser of ``propdetect.cli`` (so it can never disagree with ``propdetect --help``).
- The Python API page must name every entry of ``propdetect.__all__`` with a ``::: `` directive,
  and each of them must have a docstring; ``mkdocs build`` fails otherwise.

``tests/test_docs_site.py`` runs both without building the site.
"""

from __future__ import annotations

import argparse
import re

CLI_MARKER = "<!-- cli-reference -->"
API_PAGE = "reference/api.md"


def _option_row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{o}`" for o in action.option_strings)
        if action.nargs != 0:
            metavar = action.metavar or (("{" + ",".join(action.choices) + "}") if action.choices else
                                         action.dest.upper())
            names += f" `{metavar}`"
    else:
        names = f"`{action.metavar or action.dest}`" + (" ..." if action.nargs in ("*", "+") else "")
    text = (action.help or "").replace("|", "\\|").replace("*", "\\*").replace("\n", " ").strip()
    if text and not text.endswith("."):
        text += "."
    if action.choices and action.option_strings:
        text += f" Choices: {', '.join(f'`{c}`' for c in action.choices)}."
    if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings and action.nargs != 0:
        text += f" Default: `{action.default}`."
    if action.required and action.option_strings:
        text += " Required."
    return f"| {names} | {text} |"


def cli_reference() -> str:
    """The command line reference as Markdown: each subcommand's usage, description and options."""
    from propdetect.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = [f"```text\n{parser.format_usage().strip()}\n```", "", parser.description or "", "",
           "| option | meaning |", "|---|---|"]
    out += [_option_row(a) for a in parser._actions if a.option_strings and a.dest != "help"]
    helps = {c.dest: c.help for c in sub._choices_actions}
    for name, p in sub.choices.items():
        p.prog = f"propdetect {name}"
        out += ["", f"## propdetect {name}", "", helps.get(name, "") + ("." if helps.get(name) else ""), "",
                f"```text\n{p.format_usage().strip()}\n```", ""]
        if p.description:
            out += [p.description, ""]
        out += ["| argument | meaning |", "|---|---|"]
        out += [_option_row(a) for a in p._actions if a.dest != "help"]
    return "\n".join(out) + "\n"


def undocumented(markdown: str) -> list[str]:
    """Names of ``propdetect.__all__`` that the API page has no ``::: `` directive for."""
    import propdetect

    documented = set(re.findall(r"^::: propdetect\.(?:_\w+\.)?(\w+)\s*$", markdown, flags=re.M))
    return [n for n in propdetect.__all__ if n not in documented]


def without_docstring(root: str = ".") -> list[str]:
    """Names of ``propdetect.__all__`` whose object has no docstring, read as mkdocstrings reads
    them (griffe: a constant's docstring is the string literal after its assignment)."""
    import griffe

    import propdetect

    package = griffe.load("propdetect", search_paths=[root])
    where = {"SentenceClassifier": "_estimator.SentenceClassifier"}  # imported lazily by __getattr__
    return [n for n in propdetect.__all__ if n != "__version__"  # described on the API page itself
            and not ((doc := package[where.get(n, n)].docstring) and doc.value.strip())]


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if page.file.src_uri == API_PAGE:
        from mkdocs.exceptions import PluginError

        if missing := undocumented(markdown):
            raise PluginError(f"{API_PAGE}: public names without a '::: propdetect.NAME' entry: {missing}")
        if missing := without_docstring():
            raise PluginError(f"public names without a docstring: {missing}")
    return markdown
