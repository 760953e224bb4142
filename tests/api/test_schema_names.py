"""Django Ninja names each schema in the OpenAPI document after its class: two routers with a
`FiguresOut` each publish one component for both, and clients then read one answer with the
other's schema. Every schema class of the API has its own name."""

import importlib
import pkgutil
from collections import defaultdict

from ninja import Schema

import chorus.api


def test_every_api_schema_class_has_its_own_name():
    where = defaultdict(set)
    for module_info in pkgutil.iter_modules(chorus.api.__path__):
        module = importlib.import_module(f"chorus.api.{module_info.name}")
        for value in vars(module).values():
            defined_here = getattr(value, "__module__", None) == module.__name__
            if defined_here and isinstance(value, type) and issubclass(value, Schema):
                where[value.__name__].add(module.__name__)
    shared = {name: sorted(mods) for name, mods in where.items() if len(mods) > 1}
    assert not shared, f"schema names used by more than one API module: {shared}"
