"""Every API operation must name the token scope it needs: a new endpoint without one fails."""

from chorus.accounts.scopes import Scope
from chorus.api.auth import operation_scope
from chorus.api.urls import api


def all_operations():
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield path, operation


def test_every_operation_requires_a_known_scope():
    operations = list(all_operations())
    assert len(operations) > 10
    for path, operation in operations:
        scope = operation_scope(operation.auth_callbacks)
        assert scope in Scope.values, f"{operation.methods} {path} declares no scope"
