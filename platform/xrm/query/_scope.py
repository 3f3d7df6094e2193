"""Where a query's attributes come from: the root entity, its link-entities, and their columns as SQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, FromClause, MetaData, Table, cast, null
from sqlalchemy.types import TypeEngine

from xrm.metadata import CompiledEntity, CompiledRelationship, Model
from xrm.query._calculated import CalculatedColumns
from xrm.query.expression import LinkEntity, QueryError, QueryExpression
from xrm.schema import attribute_columns

__all__ = ["Field", "Hidden", "Source", "LinkedSource", "Scope", "resolve_scope", "MAX_LINK_ENTITIES"]

Hidden = Callable[[str], frozenset[str]]
"""``hidden(entity)`` -> the attributes of ``entity`` the caller may not read (field security)."""

MAX_LINK_ENTITIES = 15  # Dataverse's limit of joins per query
_ALIAS = re.compile(r"^[a-z][a-z0-9_]*$")

# Attribute type -> the family of operators and values it takes.
_KIND_BY_TYPE = {
    "string": "text",
    "memo": "text",
    "autonumber": "text",
    "integer": "number",
    "bigint": "number",
    "decimal": "number",
    "money": "number",
    "float": "number",
    "choice": "choice",
    "boolean": "boolean",
    "multichoice": "multichoice",
    "uniqueidentifier": "uuid",
    "lookup": "lookup",
    "customer": "lookup",
    "owner": "lookup",
    "regarding": "lookup",
}


@dataclass(frozen=True)
class Field:
    """One attribute of a source as SQL: its value column, and any companion (polymorphic type) column."""

    source: Source
    name: str
    kind: str  # text number choice boolean multichoice uuid lookup date datetime calculated
    column: ColumnElement[Any] | None  # None: calculated, nothing stored
    companions: tuple[ColumnElement[Any], ...] = ()
    targets: tuple[str, ...] = ()
    calculated: bool = False  # ``column`` computes a calculated attribute (kind: its result's)

    @property
    def label(self) -> str:
        """How error messages name the attribute: ``entity.attribute`` or ``alias.attribute (entity)``."""
        if self.source.alias is None:
            return f"{self.source.name}.{self.name}"
        return f"{self.source.alias}.{self.name} ({self.source.name})"

    @property
    def is_primary_id(self) -> bool:
        entity = self.source.entity
        return entity is not None and self.name == entity.primary_id

    def stored(self, purpose: str) -> ColumnElement[Any]:
        """The value column (a calculated attribute's SQL), or a clear error where it cannot be used."""
        if (self.calculated or self.column is None) and purpose == "joins":
            raise QueryError(f"{self.label} is a calculated attribute: it cannot be a join key")
        if self.column is None:
            raise QueryError(
                f"{self.label} is a calculated attribute: calculated attributes are evaluated on read and "
                f"are not supported in SQL {purpose} yet"
            )
        return self.column


@dataclass
class Source:
    """A table in the query: the root entity, a linked entity, or an N:N intersect table."""

    name: str
    alias: str | None
    table: FromClause
    model: Model
    entity: CompiledEntity | None = None
    intersect: CompiledRelationship | None = None
    # attributes the caller may not read: every use of them compiles to a typed NULL
    hidden: frozenset[str] = frozenset()
    _nulls: dict[str, ColumnElement[Any]] = field(default_factory=dict, repr=False)
    # compiles calculated attributes to SQL; without it they are refused (evaluated on read)
    calculated: CalculatedColumns | None = None
    _computed: dict[str, Field] = field(default_factory=dict, repr=False)

    @property
    def prefix(self) -> str:
        """Output labels of this source's columns start with this (``alias.`` for link-entities)."""
        return "" if self.alias is None else f"{self.alias}."

    @property
    def primary_key(self) -> tuple[ColumnElement[Any], ...]:
        if self.entity is not None:
            return (self.table.c[self.entity.primary_id],)
        return tuple(self.table.c[name] for name in self._intersect_targets())

    def _intersect_targets(self) -> dict[str, str]:
        assert self.intersect is not None
        first, second = self.intersect.intersect_columns
        return {first: self.intersect.referenced_entity, second: self.intersect.referencing_entity}

    def field(self, attribute: str) -> Field:
        if self.entity is None:
            targets = self._intersect_targets()
            if attribute not in targets:
                raise QueryError(f"intersect table '{self.name}' has no column '{attribute}'")
            return Field(self, attribute, "lookup", self.table.c[attribute], targets=(targets[attribute],))
        compiled = self.entity.attributes.get(attribute)
        if compiled is None:
            where = f"entity {self.name}" if self.alias is None else f"link-entity {self.alias} ({self.name})"
            raise QueryError(f"{where} has no attribute '{attribute}'")
        # The schema layer decides which columns store an attribute (none for a calculated one).
        columns: list[ColumnElement[Any]] = [
            self.table.c[spec.name] for spec in attribute_columns(self.model, self.entity, compiled)
        ]
        if not columns:
            return self._calculated_field(attribute)
        if attribute in self.hidden:
            columns = [self._null(column) for column in columns]
        kind = _KIND_BY_TYPE.get(compiled.type) or _stored_kind(columns[0].type)
        return Field(self, attribute, kind, columns[0], tuple(columns[1:]), compiled.targets)

    def output_columns(self, names: tuple[str, ...] | None) -> list[tuple[str, ColumnElement[Any]]]:
        """``(label, column)`` for the named attributes; ``None`` means every stored column."""
        if names is None:
            return [(self.prefix + column.name, self._shown(column)) for column in self.table.c]
        result = []
        for name in names:
            found = self.field(name)
            column = found.stored("columns")
            if found.calculated:
                result.append((self.prefix + name, column))
                continue
            for part in (column, *found.companions):
                result.append((self.prefix + part.name, part))
        return result

    def _calculated_field(self, attribute: str) -> Field:
        """A calculated attribute compiled to SQL, once per source (so a select list, an order and
        a group by name the same expression)."""
        if self.calculated is None or self.entity is None:
            return Field(self, attribute, "calculated", None)
        if attribute not in self._computed:
            found = self.calculated.column(self.entity, self.table, attribute, self.hidden)
            self._computed[attribute] = Field(self, attribute, found.kind, found.expression, calculated=True)
        return self._computed[attribute]

    def _null(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A hidden column's stand-in: NULL of its type, named like it; one object per column, so
        a select list, an order and a group by all name the same expression."""
        name = str(getattr(column, "name", ""))
        if name not in self._nulls:
            self._nulls[name] = cast(null(), column.type).label(name)
        return self._nulls[name]

    def _shown(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """``column`` as the caller sees it (every stored column of a hidden attribute reads as null)."""
        if self.entity is None or not self.hidden:
            return column
        for name in self.hidden:
            compiled = self.entity.attributes.get(name)
            specs = attribute_columns(self.model, self.entity, compiled) if compiled is not None else []
            if any(spec.name == getattr(column, "name", None) for spec in specs):
                return self._null(column)
        return column


def _stored_kind(column_type: TypeEngine[Any]) -> str:
    """The kind of a datetime or rollup attribute, from the type of its column."""
    if isinstance(column_type, Date):
        return "date"
    return "datetime" if isinstance(column_type, DateTime) else "number"


@dataclass(frozen=True)
class LinkedSource:
    """A link-entity resolved: what it joins, and the source it hangs from."""

    link: LinkEntity
    source: Source
    parent: Source

    @property
    def multiplies_rows(self) -> bool:
        """False when the join is on the linked entity's primary id (N:1): at most one match per parent."""
        entity = self.source.entity
        return entity is None or self.link.from_attribute != entity.primary_id


@dataclass
class Scope:
    """The root source and every link-entity, depth-first; aliases are unique."""

    root: Source
    links: list[LinkedSource] = field(default_factory=list)
    by_alias: dict[str, Source] = field(default_factory=dict)

    def calculate_with(self, calculated: CalculatedColumns) -> None:
        """Compile the calculated attributes of every source with ``calculated``."""
        for source in (self.root, *(linked.source for linked in self.links)):
            source.calculated = calculated

    def source(self, alias: str | None) -> Source:
        if alias is None:
            return self.root
        try:
            return self.by_alias[alias]
        except KeyError:
            raise QueryError(f"unknown link-entity alias '{alias}'") from None


def _table(tables: MetaData, name: str) -> Table:
    table = tables.tables.get(name)
    if table is None:
        raise QueryError(f"no table for '{name}': the tables were not built from this model")
    return table


def _open(model: Model, tables: MetaData, name: str, alias: str | None, hidden: Hidden | None = None) -> Source:
    entity = model.entities.get(name)
    if entity is not None:
        table = _table(tables, name)
        source = Source(name, alias, table if alias is None else table.alias(alias), model, entity=entity)
        source.hidden = hidden(name) if hidden is not None else frozenset()
        return source
    for relationship in model.relationships.values():
        if relationship.kind == "many_to_many" and relationship.intersect == name:
            return Source(name, alias, _table(tables, name).alias(alias), model, intersect=relationship)
    raise QueryError(f"unknown entity '{name}'")


def _all_links(links: tuple[LinkEntity, ...]) -> list[LinkEntity]:
    found: list[LinkEntity] = []
    for link in links:
        found += [link, *_all_links(link.links)]
    return found


def _aliases(root: str, links: list[LinkEntity]) -> list[str]:
    """Each link's alias, depth-first: the given one, else ``<entity><n>`` with the first free ``n``."""
    taken = {root}
    for link in links:
        if link.alias is None:
            continue
        if not _ALIAS.match(link.alias):
            raise QueryError(f"link-entity alias '{link.alias}' must be lower case letters, digits and '_'")
        if link.alias == root:
            raise QueryError(f"link-entity alias '{link.alias}' is the root entity's name")
        if link.alias in taken:
            raise QueryError(f"link-entity alias '{link.alias}' is used twice")
        taken.add(link.alias)
    aliases = []
    for link in links:
        alias = link.alias
        number = 1
        while alias is None or (link.alias is None and alias in taken):
            alias, number = f"{link.entity}{number}", number + 1
        taken.add(alias)
        aliases.append(alias)
    return aliases


def _link_key(linked: LinkedSource) -> None:
    """The join columns must exist, be stored, and hold the same kind of value."""
    link = linked.link
    mine = linked.source.field(link.from_attribute).stored("joins")
    theirs = linked.parent.field(link.to_attribute).stored("joins")
    try:
        same = mine.type.python_type is theirs.type.python_type
    except NotImplementedError:
        same = False
    if not same:
        raise QueryError(
            f"link to '{link.entity}': {link.entity}.{link.from_attribute} and "
            f"{linked.parent.name}.{link.to_attribute} hold different kinds of values"
        )


def resolve_scope(model: Model, tables: MetaData, query: QueryExpression, hidden: Hidden | None = None) -> Scope:
    """Resolve the root entity and every link-entity (at most 15) of ``query``; the attributes
    ``hidden`` names for an entity read as null wherever the query uses them."""
    scope = Scope(_open(model, tables, query.entity, None, hidden))
    links = _all_links(query.links)
    if len(links) > MAX_LINK_ENTITIES:
        raise QueryError(f"a query may join at most {MAX_LINK_ENTITIES} link-entities, this one has {len(links)}")
    aliases = iter(_aliases(query.entity, links))  # consumed in the same depth-first order

    def walk(parent: Source, children: tuple[LinkEntity, ...]) -> None:
        for link in children:
            alias = next(aliases)
            linked = LinkedSource(link, _open(model, tables, link.entity, alias, hidden), parent)
            _link_key(linked)
            scope.links.append(linked)
            scope.by_alias[alias] = linked.source
            walk(linked.source, link.links)

    walk(scope.root, query.links)
    return scope
