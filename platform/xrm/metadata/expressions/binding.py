"""Expressions against the compiled model: attribute types, a resolver per entity, calculated chains.

Attribute types as expressions see them: string, memo and autonumber are strings; integer,
bigint and choice (the option value) are integers; decimal and money are decimals; float is
float; boolean is boolean; datetime is a datetime, or a date when its behavior is date_only;
a calculated attribute has its result_type (money as decimal); a rollup has the type of what it
aggregates (count: integer, avg of integers: decimal). Lookups (lookup, customer, owner,
regarding) lead to a parent (``lookup.attribute``) and otherwise only allow ``is null``; unique
identifiers and multi-select choices only allow ``is null``. Through a polymorphic lookup,
``lookup.attribute`` needs the attribute, with one type, on every target.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from xrm.metadata.attributes import DateTimeBehavior, RollupAggregate
from xrm.metadata.expressions.checker import Resolver
from xrm.metadata.expressions.nodes import Expression, ExpressionError, ExprType, Reference, references
from xrm.metadata.expressions.parser import parse_expression
from xrm.metadata.model import CompiledAttribute, CompiledEntity, Model

__all__ = ["MAX_CHAIN", "attribute_type", "entity_resolver", "check_calculated_chain"]

MAX_CHAIN = 5
"""Longest chain of calculated attributes built on one another (Dataverse's limit)."""

_TYPES = {
    "string": ExprType.STRING,
    "memo": ExprType.STRING,
    "autonumber": ExprType.STRING,
    "integer": ExprType.INTEGER,
    "bigint": ExprType.INTEGER,
    "choice": ExprType.INTEGER,
    "decimal": ExprType.DECIMAL,
    "money": ExprType.DECIMAL,
    "float": ExprType.FLOAT,
    "boolean": ExprType.BOOLEAN,
    "datetime": ExprType.DATETIME,
    "lookup": ExprType.LOOKUP,
    "customer": ExprType.LOOKUP,
    "owner": ExprType.LOOKUP,
    "regarding": ExprType.LOOKUP,
}

Key = tuple[str, str]  # (entity, attribute)


def attribute_type(model: Model, attribute: CompiledAttribute) -> ExprType:
    """The type an expression sees for ``attribute``."""
    metadata = attribute.metadata
    if metadata.type == "datetime" and metadata.behavior is DateTimeBehavior.DATE_ONLY:
        return ExprType.DATE
    if metadata.type == "calculated":
        return _TYPES[metadata.result_type]
    if metadata.type == "rollup":
        if metadata.aggregate is RollupAggregate.COUNT:
            return ExprType.INTEGER
        related = model.entities.get(metadata.related_entity)
        source = related.attributes.get(metadata.attribute or "") if related is not None else None
        if source is None or source.type == "rollup":
            return ExprType.DECIMAL  # the rollup itself is reported as broken
        kind = attribute_type(model, source)
        return ExprType.DECIMAL if metadata.aggregate is RollupAggregate.AVG and kind is ExprType.INTEGER else kind
    return _TYPES.get(metadata.type, ExprType.OPAQUE)


def entity_resolver(model: Model, entity: CompiledEntity) -> Resolver:
    """A resolver for expressions on ``entity``: its attributes and those of its N:1 parents."""

    def resolve(lookup: str | None, name: str) -> ExprType | None:
        if lookup is None:
            found = entity.attributes.get(name)
            return None if found is None else attribute_type(model, found)
        link = entity.attributes.get(lookup)
        kinds: set[ExprType] = set()
        for target in link.targets if link is not None else ():
            parent = model.entities.get(target)
            found = parent.attributes.get(name) if parent is not None else None
            if found is None:
                return None
            kinds.add(attribute_type(model, found))
        return kinds.pop() if len(kinds) == 1 else None

    return resolve


def check_calculated_chain(model: Model, entity: CompiledEntity, name: str, expression: Expression) -> None:
    """Raise ExpressionError when calculated attribute ``name`` (computed by ``expression``) is part
    of or leads to a cycle of calculated attributes, or starts a chain of more than MAX_CHAIN."""
    root: Key = (entity.logical_name, name)
    edges = _graph(model, root, _children(model, entity, expression))
    chains = _chains(edges)
    targets = [(ref, target) for ref in references(expression) for target in _targets(model, entity, ref)]
    for ref, target in targets:
        if target not in chains:
            cycle = _cycle(edges, chains, target, root)
            if cycle[0] == root:
                raise ExpressionError(ref.position, f"calculated attributes form a cycle: {_show(cycle, root)}")
            raise ExpressionError(
                ref.position,
                f"'{ref.dotted}' leads to a cycle of calculated attributes: {_show(cycle, root)}",
            )
    for ref, target in targets:
        if len(chains[target]) >= MAX_CHAIN:
            chain = (root, *chains[target])
            raise ExpressionError(
                ref.position,
                f"'{ref.dotted}' makes a chain of {len(chain)} calculated attributes "
                f"(at most {MAX_CHAIN}): {_show(chain, root)}",
            )


def _children(model: Model, entity: CompiledEntity, expression: Expression | None) -> tuple[Key, ...]:
    """The calculated attributes ``expression`` (on ``entity``) refers to, in order, once each."""
    if expression is None:
        return ()
    found = (target for ref in references(expression) for target in _targets(model, entity, ref))
    return tuple(dict.fromkeys(found))


def _graph(model: Model, root: Key, first: tuple[Key, ...]) -> dict[Key, tuple[Key, ...]]:
    """Every calculated attribute reachable from ``root``, with the ones each refers to."""
    edges = {root: first}
    pending = list(first)
    while pending:
        key = pending.pop()
        if key in edges:
            continue
        entity = model.entities[key[0]]
        text = entity.attributes[key[1]].metadata.expression  # type: ignore[union-attr]
        edges[key] = _children(model, entity, _parse(text))
        pending.extend(edges[key])
    return edges


def _chains(edges: dict[Key, tuple[Key, ...]]) -> dict[Key, tuple[Key, ...]]:
    """The longest chain from each key that reaches no cycle (peeling the graph from its sinks)."""
    referrers: dict[Key, list[Key]] = {key: [] for key in edges}
    waiting = {key: len(children) for key, children in edges.items()}
    for key, children in edges.items():
        for child in children:
            referrers[child].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    chains: dict[Key, tuple[Key, ...]] = {}
    while ready:
        key = ready.pop()
        chains[key] = (key, *max((chains[child] for child in edges[key]), key=len, default=()))
        for referrer in referrers[key]:
            waiting[referrer] -= 1
            if waiting[referrer] == 0:
                ready.append(referrer)
    return chains


def _cycle(
    edges: dict[Key, tuple[Key, ...]], chains: dict[Key, tuple[Key, ...]], start: Key, root: Key
) -> tuple[Key, ...]:
    """A cycle reached from ``start``: through ``root`` (starting there) if there is one."""
    if start == root:
        return (root, root)
    previous: dict[Key, Key | None] = {start: None}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        for child in edges[key]:
            if child == root:
                path: list[Key] = []
                step: Key | None = key
                while step is not None:
                    path.append(step)
                    step = previous[step]
                return (root, *reversed(path), root)
            if child not in chains and child not in previous:
                previous[child] = key
                queue.append(child)
    seen: list[Key] = []
    key = start
    while key not in seen:  # every key outside ``chains`` refers to another one outside it
        seen.append(key)
        key = next(child for child in edges[key] if child not in chains)
    return (*seen[seen.index(key) :], key)


def _targets(model: Model, entity: CompiledEntity, ref: Reference) -> list[Key]:
    """The calculated attributes ``ref`` names (several through a polymorphic lookup)."""
    if ref.lookup is None:
        entities = [entity.logical_name]
    else:
        link = entity.attributes.get(ref.lookup)
        entities = list(link.targets) if link is not None else []
    keys = []
    for logical_name in entities:
        owner = model.entities.get(logical_name)
        found = owner.attributes.get(ref.attribute) if owner is not None else None
        if found is not None and found.type == "calculated":
            keys.append((logical_name, ref.attribute))
    return keys


@lru_cache(maxsize=1024)
def _parse(text: str) -> Expression | None:
    try:
        return parse_expression(text)
    except ExpressionError:
        return None  # reported on the attribute it belongs to


def _show(chain: tuple[Key, ...], root: Key) -> str:
    return " -> ".join(name if entity == root[0] else f"{entity}.{name}" for entity, name in chain)
