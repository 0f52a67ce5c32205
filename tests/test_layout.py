"""The import directions of the layout (docs/architecture.md), read from the code's own imports.

kernels, dataset, store and pages never import stages, engine, predict or model; only cli imports
predict; predict imports no stage, and nothing of the trainer's loop or data (the network's input is
model.inputs, the checkpoint loader model.training.checkpoint); a stage imports no other stage but the
shared base (pipeline.stages.context; refresh and status loop over the package's STAGES); model imports
nothing of pipeline but its errors, option helper and device resolver (the trainer, model.training, may
also read pipeline.store and call the pure pipeline.kernels); blend never imports the demo generators
(both write videos through pipeline.kernels.encode); pipeline.params imports only the leaves (errors,
options, devices); a network's output record (model.outputs, model.mclcr.outputs) imports nothing of the
project, so a net and its loss never import each other; the checkpoint loader does not import the
distributed-training helper; nothing imports cli; and no module imports itself through others (no cycle,
lazy imports included).
"""

import ast
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("pipeline", "model") for p in (TOP / folder).rglob("*.py")) + [
    TOP / "cli.py"
]


def module_name(path: Path) -> str:
    parts = path.relative_to(TOP).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (lazy imports inside functions included)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def forbidden(importer: str, imported: str) -> bool:
    def under(name: str, *roots: str) -> bool:
        return any(name == r or name.startswith(r + ".") for r in roots)

    if under(imported, "cli"):
        return True
    low = ("pipeline.kernels", "pipeline.dataset", "pipeline.store", "pipeline.pages")
    if under(importer, *low) and under(
        imported, "pipeline.stages", "pipeline.engine", "pipeline.predict", "model"
    ):
        return True
    if under(imported, "pipeline.predict") and not under(importer, "pipeline.predict", "cli"):
        return True  # only cli runs predictions
    if under(importer, "pipeline.engine", "pipeline.predict") and under(imported, "pipeline.stages"):
        return True
    if under(importer, "pipeline.stages") and under(imported, "pipeline.stages"):
        return not sibling_allowed(importer, imported)
    if under(importer, "pipeline.predict") and under(imported, "model.training.loop", "model.training.data"):
        return True  # predict reads the network's input from model.inputs
    if under(importer, "pipeline.blend") and under(imported, "pipeline.demo"):
        return True
    if importer == "pipeline.params" and under(imported, "pipeline"):
        return not under(imported, *LEAVES)
    if importer in ("model.outputs", "model.mclcr.outputs") and under(imported, "model", "pipeline"):
        return True
    if importer == "model.training.checkpoint" and under(imported, "model.training.distributed"):
        return True
    if under(importer, "model") and under(imported, "pipeline"):
        allowed = ("pipeline.errors", "pipeline.options", "pipeline.devices")
        allowed += ("pipeline.store", "pipeline.kernels") if under(importer, "model.training") else ()
        return not under(imported, *allowed)
    return False


LEAVES = ("pipeline.errors", "pipeline.options", "pipeline.devices")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a loop (strongly connected, more than one module)."""
    order, low, stack, found, count = {}, {}, [], [], [0]

    def visit(v: str) -> None:
        order[v] = low[v] = count[0]
        count[0] += 1
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return found


def sibling_allowed(importer: str, imported: str) -> bool:
    """A stage may import the shared base (pipeline.stages.context), and refresh and status the package (its
    STAGES); anything else in pipeline.stages is another stage's runner."""
    if imported == importer or imported.startswith(importer + "."):
        return True
    if imported == "pipeline.stages.context" or imported.startswith("pipeline.stages.context."):
        return True
    return imported in ("pipeline.stages", "pipeline.stages.STAGES") and importer in (
        "pipeline.stages",
        "pipeline.stages.refresh",
        "pipeline.stages.status",
    )


IMPORTS = {module_name(p): imports(p) for p in SOURCES}


def test_the_layout_is_read():
    assert (
        "pipeline.stages.extract" in IMPORTS
        and "pipeline.engine.runner" in IMPORTS["pipeline.stages.extract"]
    )


@pytest.mark.parametrize("importer", sorted(IMPORTS))
def test_no_import_runs_against_the_layout(importer):
    bad = sorted(m for m in IMPORTS[importer] if forbidden(importer, m))
    assert not bad, f"{importer} imports {', '.join(bad)}"


def test_no_module_imports_itself_through_others():
    graph = {m: {i for i in found if i in IMPORTS and i != m} for m, found in IMPORTS.items()}
    assert cycles(graph) == []
    assert cycles({"model.lrl": {"model.losses"}, "model.losses": {"model.lrl"}, "x": set()}) == [
        ["model.losses", "model.lrl"]
    ]


RULES = [  # (importer, imported, forbidden)
    ("pipeline.blend.encode", "pipeline.demo.tree.ENCODINGS", True),
    ("pipeline.params", "pipeline.dataset.layout.BLEND_METHODS", True),
    ("pipeline.params", "pipeline.devices", False),
    ("pipeline.predict.score", "model.training.data.freq_input", True),
    ("pipeline.predict.score", "model.inputs", False),
    ("model.outputs", "model.lrl", True),
    ("model.mclcr.outputs", "model.mclcr.net", True),
    ("model.training.checkpoint", "model.training.distributed", True),
    ("pipeline.store.reader", "pipeline.engine.runstate", True),
    ("model.lrl", "pipeline.store.atomic", True),
    ("model.training.loop", "pipeline.store.atomic", False),
    ("model.training.robustness", "pipeline.kernels.perturb", False),
    ("model.lrl", "pipeline.kernels.dct", True),
    ("pipeline.stages.refresh", "cli", True),
    ("pipeline.pages.html", "pipeline.predict.score", True),
    ("model.training.loop", "pipeline.predict.run", True),
    ("model.training.distributed", "pipeline.devices", False),
    ("pipeline.stages.masks", "pipeline.stages.extract", True),
    ("pipeline.stages.shards", "pipeline.stages.masks.MasksRecord", True),
    ("pipeline.stages.report", "pipeline.stages", True),
    ("pipeline.stages.shards", "pipeline.stages.context.Plan", False),
    ("pipeline.stages.refresh", "pipeline.stages.STAGES", False),
    ("pipeline.predict.score", "pipeline.stages.extract", True),
    ("pipeline.predict.score", "pipeline.stages.context", True),
]


@pytest.mark.parametrize(("importer", "imported", "expected"), RULES)
def test_the_rule_catches_a_forbidden_import(importer, imported, expected):
    assert forbidden(importer, imported) == expected


def test_frame_names_keep_face_0_as_before_and_name_other_faces():
    from pipeline.store.layout import frame_name

    assert frame_name(12) == frame_name(12, 0) == "000012.png" and frame_name(12, 2) == "000012-f2.png"
