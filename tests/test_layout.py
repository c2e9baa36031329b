"""The house's arrows point one way (DESIGN.md, "Where things live").

An AST walk of every module of the house (not tests, migrations, bench scripts or manage.py), the
way import-linter would read it, with no dependency of its own. Each module belongs to a room: the
longest prefix in FLOORS. Every import counts, the lazy ones inside functions and those under
TYPE_CHECKING too: an import in a function is still an arrow. Three rules:

1. a room imports only rooms on floors below its own (or siblings on the same floor);
2. there is no cycle between rooms;
3. a module that is not a channel never imports a channel (CHANNEL rules below): services,
   selectors, models and gates do not know who calls them.

The checker's own tests, on small made-up graphs, come first, so the rules cannot pass vacuously.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The floors of the house, top to bottom: a room may import only rooms on lower floors. Rooms on
# one floor (a tuple) are siblings: they may import each other, as long as no cycle forms.
# config is the top: it wires every room together, and no room imports it (DESIGN.md).
FLOORS: list[str | tuple[str, ...]] = [
    "config",
    "demo",
    "staff",
    "portal",
    "billing",  # the client's plan and statements: reads the calls' times, sells them by the minute
    "levels",  # service levels: reads the calls, the queue and presence rows by id; charts and forms from audit
    "audit",
    "answering",
    "scheduling",
    "crm",
    "desk",  # presence and the ACD queue: public, ids and states only; answering puts calls in it
    "compliance.incidents",
    ("compliance.risks", "compliance.training"),  # both build on the agreements, neither on the other
    "compliance.agreements",
    "api",
    ("operations.monitoring", "operations.backups", "operations.timers", "operations.outbox"),
    "gates",
    "tenants",
]

# Outside the house: they drive it from the outside, and may import any room.
OUTSIDE = ("tests", "bench", "docs", "manage", ".venv", ".vastaja", "node_modules")

# Channel modules whose names do not say so: the shells' own screens.
SHELL_CHANNELS = {"api.team", "portal.team", "portal.signin", "staff.site", "staff.dpo", "config.asgi"}

# --- reading the code ---------------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def house_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the house, by dotted name: no tests, no migrations, nothing OUTSIDE."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in OUTSIDE or parts[0] == "manage.py":
            continue
        if "tests" in parts or "migrations" in parts or path.name.startswith("test_") or path.name == "conftest.py":
            continue
        modules[module_name(path, root)] = path
    return modules


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, target] if target else base)


def imports_of(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The first-party modules that `module` imports, anywhere in its body."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(module, path.name == "__init__.py", node.level, node.module)
            # `from a.b import c` names the module a.b.c when there is one, else something in a.b.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        for name in names:
            # `import a.b.c` reaches the longest known prefix (a.b.c, or a.b when c is an attribute).
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = house_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


# --- the rules ----------------------------------------------------------------------------------


def floor_of(floors: list[str | tuple[str, ...]]) -> dict[str, int]:
    """Each room's floor: 0 is the top."""
    return {
        room: level for level, rooms in enumerate(floors) for room in ((rooms,) if isinstance(rooms, str) else rooms)
    }


def room_of(module: str, rooms: Iterable[str]) -> str | None:
    """The longest room that is `module` or a package holding it."""
    matches = [room for room in rooms if module == room or module.startswith(room + ".")]
    return max(matches, key=len, default=None)


def unplaced(graph: Mapping[str, set[str]], floors) -> list[str]:
    """Modules that belong to no room. A plain package (compliance/__init__.py) may sit above its
    rooms as long as it imports nothing."""
    rooms = floor_of(floors)
    return sorted(module for module, targets in graph.items() if room_of(module, rooms) is None and targets)


def back_arrows(graph: Mapping[str, set[str]], floors, allowed=frozenset()) -> list[str]:
    """Every import from a room to a room on a higher floor, as 'importer -> imported (rooms)'."""
    level = floor_of(floors)
    found = []
    for module, targets in sorted(graph.items()):
        source = room_of(module, level)
        for target in sorted(targets):
            destination = room_of(target, level)
            if source is None or destination is None or source == destination:
                continue
            if level[destination] < level[source] and (module, target) not in allowed:
                found.append(f"{module} -> {target} ({source} is below {destination})")
    return found


def room_graph(graph: Mapping[str, set[str]], rooms: Iterable[str], allowed=frozenset()) -> dict[str, dict[str, str]]:
    """Room -> room -> one module arrow that witnesses it."""
    rooms = list(rooms)
    edges: dict[str, dict[str, str]] = {}
    for module, targets in sorted(graph.items()):
        source = room_of(module, rooms)
        for target in sorted(targets):
            destination = room_of(target, rooms)
            if source and destination and source != destination and (module, target) not in allowed:
                edges.setdefault(source, {}).setdefault(destination, f"{module} -> {target}")
    return edges


def room_cycles(graph: Mapping[str, set[str]], floors, allowed=frozenset()) -> list[str]:
    """Each cycle between rooms (one per strongly connected group), printed with its arrows."""
    edges = room_graph(graph, floor_of(floors), allowed)
    # Tarjan's strongly connected components, iteratively (no recursion limit to hit).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(set(group))
    return [_describe_cycle(group, edges) for group in groups]


def _describe_cycle(group: set[str], edges: dict[str, dict[str, str]]) -> str:
    """One concrete cycle through the group: a -> b -> a, with the module arrow for each step."""
    start = min(group)
    # Breadth-first from start back to start, inside the group: the shortest cycle through it.
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges.get(node, {})):
            if child == start:
                cycle = [*paths[node], start]
                steps = "; ".join(edges[a][b] for a, b in pairwise(cycle))
                return " -> ".join(cycle) + f"  [{steps}]"
            if child in group and child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {group}")  # unreachable for a strongly connected group


def is_channel(module: str, *, package: bool = False) -> bool:
    """Channels are the ways in: admin, views, urls, websocket consumers (and the ASGI entry that
    routes to them), API and portal packages, template tags and management commands."""
    parts = module.split(".")
    leaf = parts[-1]
    if leaf in {"admin", "views", "consumers"} or leaf.endswith("_views"):
        return True
    if leaf.startswith("urls") or leaf.endswith("_urls"):
        return True
    if module in SHELL_CHANNELS:
        return True
    packages = parts[:] if package else parts[:-1]
    if "admin" in packages or "templatetags" in packages or "commands" in packages:
        return True
    # An app's own api/ and portal/ packages hold its API and portal screens (the top-level api/
    # and portal/ rooms are shells: their channels are named above).
    return any(part in {"api", "portal"} for part in packages[1:])


def channel_imports(graph: Mapping[str, set[str]], packages: Iterable[str] = ()) -> list[str]:
    """Every import of a channel by a module that is not one."""
    packages = set(packages)

    def channel(module):
        return is_channel(module, package=module in packages)

    return [
        f"{module} -> {target}"
        for module, targets in sorted(graph.items())
        if not channel(module)
        for target in sorted(targets)
        if channel(target)
    ]


# --- the checker's own tests, on made-up houses -------------------------------------------------

TOY_FLOORS = ["top", ("left", "right"), "ground"]


def test_a_downward_arrow_passes():
    graph = {"top.views": {"left.services"}, "left.services": {"ground.models"}, "ground.models": set()}
    assert back_arrows(graph, TOY_FLOORS) == []
    assert room_cycles(graph, TOY_FLOORS) == []


def test_a_back_arrow_is_caught_and_named():
    graph = {"ground.models": {"top.services"}, "top.services": set()}
    assert back_arrows(graph, TOY_FLOORS) == ["ground.models -> top.services (ground is below top)"]


def test_a_lazy_import_is_an_arrow(tmp_path):
    (tmp_path / "ground").mkdir()
    (tmp_path / "top").mkdir()
    (tmp_path / "ground" / "__init__.py").write_text("")
    (tmp_path / "top" / "__init__.py").write_text("")
    (tmp_path / "top" / "services.py").write_text("def f():\n    pass\n")
    (tmp_path / "ground" / "models.py").write_text(
        "def later():\n    from top.services import f\n    return f\n\n"
        "def relative():\n    from ..top import services\n"
    )
    graph = import_graph(tmp_path)
    assert graph["ground.models"] == {"top.services"}
    assert back_arrows(graph, TOY_FLOORS) == ["ground.models -> top.services (ground is below top)"]


def test_an_allowed_arrow_is_let_through_and_nothing_else():
    graph = {"ground.models": {"top.services", "top.selectors"}}
    allowed = {("ground.models", "top.services")}
    assert back_arrows(graph, TOY_FLOORS, allowed) == ["ground.models -> top.selectors (ground is below top)"]


def test_a_cycle_between_siblings_is_caught_and_printed():
    graph = {"left.services": {"right.selectors"}, "right.models": {"left.models"}}
    assert back_arrows(graph, TOY_FLOORS) == []  # siblings may import each other...
    assert room_cycles(graph, TOY_FLOORS) == [
        "left -> right -> left  [left.services -> right.selectors; right.models -> left.models]"
    ]  # ...but not both ways


def test_a_longer_cycle_is_printed_whole():
    floors = [("a", "b", "c")]
    graph = {"a.x": {"b.x"}, "b.x": {"c.x"}, "c.x": {"a.x"}}
    assert room_cycles(graph, floors) == ["a -> b -> c -> a  [a.x -> b.x; b.x -> c.x; c.x -> a.x]"]


def test_a_sub_package_is_a_room_of_its_own():
    floors = ["house.upper", "house.lower"]
    assert room_of("house.upper.models", floor_of(floors)) == "house.upper"
    assert room_of("house.lower", floor_of(floors)) == "house.lower"
    assert room_of("house", floor_of(floors)) is None
    assert back_arrows({"house.lower.models": {"house.upper.selectors"}}, floors) == [
        "house.lower.models -> house.upper.selectors (house.lower is below house.upper)"
    ]


@pytest.mark.parametrize(
    ("module", "channel"),
    [
        ("crm.admin", True),
        ("gates.admin", True),
        ("answering.views", True),
        ("answering.telephony_views", True),
        ("config.urls_public", True),
        ("config.asgi", True),
        ("desk.consumers", True),
        ("desk.ws_urls", True),
        ("staff.site", True),
        ("api.team_urls", True),
        ("api.urls", True),
        ("crm.api.views", True),
        ("crm.api.serializers", True),
        ("crm.portal.views", True),
        ("api.tokens.portal.views", True),
        ("answering.templatetags.answering_portal", True),
        ("demo.management.commands.run_demo", True),
        ("crm.services", False),
        ("crm.selectors", False),
        ("crm.models", False),
        ("gates.engine", False),
        ("gates.portal", False),
        ("api.base", False),
        ("portal.guides", False),
        ("answering.tasks", False),
    ],
)
def test_channels_are_told_apart(module, channel):
    assert is_channel(module) is channel


def test_a_package_is_told_apart_from_a_module_of_the_same_name():
    assert is_channel("crm.api", package=True)  # crm/api/__init__.py: the app's API package
    assert is_channel("crm.portal", package=True)
    assert not is_channel("gates.portal")  # gates/portal.py: the portal's decorators, a gate


def test_a_service_importing_a_channel_is_caught():
    graph = {"crm.services": {"crm.admin", "crm.models"}, "crm.admin": {"crm.services"}}
    assert channel_imports(graph) == ["crm.services -> crm.admin"]


# --- the house itself ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_checker_reads_the_house(graph):
    # The walk finds the code and its arrows; an empty graph would pass every rule below.
    assert {"gates.engine", "crm.services", "answering.admin", "config.settings"} <= graph.keys()
    assert "tenants.models" in graph["gates.engine"]


def test_every_module_has_a_room(graph):
    assert unplaced(graph, FLOORS) == []


def test_no_arrow_runs_back_up_the_house(graph):
    arrows = back_arrows(graph, FLOORS)
    assert arrows == [], "a lower room imports a higher one:\n" + "\n".join(arrows)


def test_no_cycle_between_rooms(graph):
    cycles = room_cycles(graph, FLOORS)
    assert cycles == [], "rooms import each other in a circle:\n" + "\n".join(cycles)


def test_no_channel_is_imported_by_what_it_serves(graph):
    found = channel_imports(graph)
    assert found == [], "a service, selector, model or gate imports a channel:\n" + "\n".join(found)
