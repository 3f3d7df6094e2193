"""Security roles in the API: ``securityRoles`` and ``rolesOf`` (queries), ``assignRole`` and
``removeRole`` (mutations), through the caller's organization service.

A principal is a ``PrincipalReference`` (``{entity: systemuser | team, id}``, the shape of a
``RecordReference``). Giving, taking and listing another principal's roles need the global
privilege ``manage_roles`` (``FORBIDDEN`` otherwise); a user may list its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
)
from xrm.data import EntityReference
from xrm.graphql.naming import camel
from xrm.graphql.scalars import UUIDScalar
from xrm.metadata import Model, RoleMetadata

__all__ = ["role_fields"]

S, NS = GraphQLString, GraphQLNonNull(GraphQLString)
PRIVILEGES = ("create", "read", "write", "delete", "append", "append_to", "assign", "share")


def _names(of: Any) -> GraphQLNonNull:
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(of)))


_privilege = GraphQLObjectType(
    "RolePrivilegeDefinition",
    lambda: {
        "entity": GraphQLField(NS),
        **{camel(name): GraphQLField(NS, description="A depth: none, user, business_unit, ...") for name in PRIVILEGES},
    },
    description="The depth at which a role gives each privilege on one entity.",
)
_role = GraphQLObjectType(
    "SecurityRoleDefinition",
    lambda: {
        "name": GraphQLField(NS),
        "displayName": GraphQLField(S),
        "description": GraphQLField(S),
        "solution": GraphQLField(NS),
        "administrator": GraphQLField(GraphQLNonNull(GraphQLBoolean), description="Every privilege everywhere."),
        "privileges": GraphQLField(_names(_privilege)),
        "globalPrivileges": GraphQLField(_names(S)),
    },
    description="A security role installed by a solution.",
)


def _role_dict(name: str, solution: str, role: RoleMetadata) -> dict[str, Any]:
    privileges = [{"entity": p.entity, **{camel(k): getattr(p, k).value for k in PRIVILEGES}} for p in role.privileges]
    return {
        "name": name, "displayName": role.display_name, "description": role.description, "solution": solution,
        "administrator": role.administrator, "privileges": privileges, "globalPrivileges": list(role.global_privileges),
    }  # fmt: skip


def _principal(value: Mapping[str, Any]) -> EntityReference:
    return EntityReference(value["entity"], value["id"])


def role_fields(model: Model, entity_names: GraphQLEnumType) -> tuple[dict[str, GraphQLField], dict[str, GraphQLField]]:
    """The role fields of the query root and of the mutation root."""
    principal = GraphQLInputObjectType(
        "PrincipalReference",
        lambda: {
            "entity": GraphQLInputField(GraphQLNonNull(entity_names), description="systemuser or team"),
            "id": GraphQLInputField(GraphQLNonNull(UUIDScalar)),
        },
        description="A user or an owner team.",
    )
    roles = [
        _role_dict(name, c.solution, c.metadata)
        for name, c in sorted(model.roles.items())
        if isinstance(c.metadata, RoleMetadata)
    ]
    arguments = {"principal": GraphQLArgument(GraphQLNonNull(principal)), "role": GraphQLArgument(NS)}

    def roles_of(_root: Any, info: GraphQLResolveInfo, principal: Mapping[str, Any]) -> list[str]:
        result: list[str] = info.context.service.roles_of(_principal(principal))
        return result

    def changer(method: str) -> Any:
        def change(_root: Any, info: GraphQLResolveInfo, principal: Mapping[str, Any], role: str) -> list[str]:
            reference = _principal(principal)
            getattr(info.context.service, method)(reference, role)
            result: list[str] = info.context.service.roles_of(reference)
            return result

        return change

    queries = {
        "securityRoles": GraphQLField(
            _names(_role), resolve=lambda _r, _i: roles, description="The security roles of the installed model."
        ),
        "rolesOf": GraphQLField(
            _names(S),
            {"principal": GraphQLArgument(GraphQLNonNull(principal))},
            resolve=roles_of,
            description="The roles a user or team holds itself (not through its teams).",
        ),
    }
    mutations = {
        "assignRole": GraphQLField(
            _names(S),
            arguments,
            resolve=changer("assign_role"),
            description="Give a security role to a user or owner team (needs manage_roles); returns its roles.",
        ),
        "removeRole": GraphQLField(
            _names(S),
            arguments,
            resolve=changer("remove_role"),
            description="Take a security role from a user or owner team (needs manage_roles); returns its roles.",
        ),
    }
    return queries, mutations
