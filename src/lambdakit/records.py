"""Frozen records of annotated fields, for the route model, the settings and what routes return.

Written here rather than `@dataclass(frozen=True)`: that decorator generates each class's methods with
exec when its module is imported (about 0.7 ms a class), and every cold start imports these modules;
the `dataclasses` module itself costs another half millisecond. Standard library only (synth imports it).
"""

from __future__ import annotations

import inspect
from typing import Any


class Factory:
    """A default made afresh for each record (`params: dict = Factory(dict)`)."""

    def __init__(self, make: Any) -> None:
        self.make = make


def record(*, uncompared: tuple[str, ...] = ()) -> Any:
    """Make a class a frozen record of its annotated fields: keyword or positional, equal by value.

    `uncompared` fields (a source line, a compiled regex) are left out of equality, hashing and repr.
    A `__post_init__` method, when the class has one, runs after the fields are set.
    """

    def decorate(cls: Any) -> Any:
        names = tuple(inspect.get_annotations(cls))
        cls._fields = names
        cls._defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        cls._compared = tuple(name for name in names if name not in uncompared)
        cls.__init__ = _init
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
        cls.__eq__ = _eq
        cls.__hash__ = _hash
        cls.__repr__ = _repr
        return cls

    return decorate


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    fields = self._fields
    if len(args) > len(fields):
        raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments, got {len(args)}")
    values = dict(zip(fields, args, strict=False))
    for name, value in kwargs.items():
        if name not in fields or name in values:
            raise TypeError(f"{type(self).__name__}() got an unexpected or repeated argument {name!r}")
        values[name] = value
    for name in fields:
        if name not in values:
            if name not in self._defaults:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
            default = self._defaults[name]
            values[name] = default.make() if isinstance(default, Factory) else default
        object.__setattr__(self, name, values[name])
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")


def _frozen_delattr(self: Any, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return all(getattr(self, name) == getattr(other, name) for name in self._compared)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, name) for name in self._compared))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
    return f"{type(self).__name__}({shown})"
