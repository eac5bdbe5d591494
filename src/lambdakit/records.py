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
    A `__post_init__` method, when the class has one, runs after the fields are set; a class that writes
    its own `__init__` keeps it (one made on every request may spare the generic one's loop).
    """

    def decorate(cls: Any) -> Any:
        names = tuple(inspect.get_annotations(cls))
        cls._fields = names
        cls._defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        cls._field_defaults = tuple((name, cls._defaults.get(name, _REQUIRED)) for name in names)
        cls._compared = tuple(name for name in names if name not in uncompared)
        cls._post_init = getattr(cls, "__post_init__", None)
        if "__init__" not in cls.__dict__:
            cls.__init__ = _init
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
        cls.__eq__ = _eq
        cls.__hash__ = _hash
        cls.__repr__ = _repr
        return cls

    return decorate


_REQUIRED = object()
_set = object.__setattr__


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    # One pass over the fields, with no dict built.
    cls = type(self)
    if args:
        if len(args) > len(cls._fields):
            raise TypeError(f"{cls.__name__}() takes {len(cls._fields)} arguments, got {len(args)}")
        for name, value in zip(cls._fields, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got argument {name!r} twice")
            kwargs[name] = value
    for name, default in cls._field_defaults:
        if name in kwargs:
            _set(self, name, kwargs.pop(name))
        elif default is _REQUIRED:
            raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        else:
            _set(self, name, default.make() if type(default) is Factory else default)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got an unexpected argument {next(iter(kwargs))!r}")
    if cls._post_init is not None:
        cls._post_init(self)


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
