"""Generated files: the SQL cookbook, the data dictionary and the production instance config
(`bedrock-jobs docs`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.instance import production_dagster_yaml
from pipelines.tools.docs.cookbook import cookbook_markdown, recipes
from pipelines.tools.docs.dictionary import dictionary_markdown

# Path under the project root → the function that generates it.
GENERATED: dict[str, Callable[[], str]] = {
    "docs/cookbook.md": cookbook_markdown,
    "docs/data-dictionary.md": dictionary_markdown,
    "deploy/dagster.yaml": production_dagster_yaml,
}


def stale_docs(root: Path) -> list[str]:
    """The generated pages under `root` that differ from what the generators produce."""
    return [name for name, generate in GENERATED.items()
            if not (root / name).exists() or (root / name).read_text() != generate()]


def write_docs(root: Path) -> list[str]:
    """Regenerate every page under `root`; returns the ones that changed."""
    changed = []
    for name, generate in GENERATED.items():
        path = root / name
        text = generate()
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(name)
    return changed


__all__ = ["GENERATED", "cookbook_markdown", "dictionary_markdown", "recipes", "stale_docs",
           "write_docs"]
