"""Mesa, imported without the parts mbo-sim never uses (issue 17: per-run overhead).

Every module of ``sim`` takes Mesa from here (``from sim._mesa import Priority, mesa``), never with
its own ``import mesa``: the first import of Mesa decides what it loads.

mbo-sim uses ``mesa.Model``, ``mesa.Agent`` and ``mesa.time`` only. Importing Mesa 3 costs about
0.6 s of every cold start, for two reasons this module removes:

- ``mesa/__init__`` imports all its subpackages, and three of them pull in large libraries:
  ``mesa.discrete_space`` (cell spaces: scipy.spatial and networkx), ``mesa.space`` (the older
  grids: networkx) and ``mesa.experimental.continuous_space`` (scipy.spatial.distance): about
  0.3 s. Here they are made **lazy**: each becomes a module object at once (``mesa.space`` exists
  as usual), but its code runs only when something first uses it: one of its attributes
  (``mesa.space.MultiGrid``), or importing it or a submodule again (``import mesa.discrete_space``).
  This is the standard library's :class:`importlib.util.LazyLoader` with one difference: reading a
  module's metadata (``__name__``, ``__file__``, ``__spec__``, ...) does not load it, since the
  import system reads ``__spec__`` and :mod:`inspect` reads every loaded module's ``__file__``.
- ``mesa.model`` names its module logger and the class of its logged method with
  :func:`inspect.stack` (``mesa.mesa_logging``). That reads the source of every frame of the
  import and resolves the real path of every loaded module: 0.08–0.14 s. While Mesa is imported
  here, ``mesa.mesa_logging`` gets :class:`_FrameNames` in place of :mod:`inspect`: the same
  answers (the calling module, the calling function's name) read from the frames directly. It
  gets :mod:`inspect` back as soon as ``import mesa`` is done.

Both are done by a finder at the front of ``sys.meta_path`` while ``import mesa`` runs, removed
as soon as it is done, so it touches no other import. Nothing of Mesa's behaviour changes: the same
modules, classes and loggers, only the three subpackages load later.

It falls back to plain imports, silently: if Mesa is already imported, or if the finder cannot
handle a name (not found, a loader without ``exec_module``, another Mesa layout, a
``mesa_logging`` that does not use :mod:`inspect`), that name is imported as usual. A lazy
subpackage that fails to load raises its error at first use and is then not left in
``sys.modules``, as with a failed import.
"""

from __future__ import annotations

import importlib.machinery
import inspect
import sys
import threading
import types

#: Mesa's subpackages that ``mesa/__init__`` (or ``mesa.experimental``) imports and mbo-sim never
#: uses; they load when first used.
LAZY = frozenset({"mesa.discrete_space", "mesa.space", "mesa.experimental.continuous_space"})

_LOGGING = "mesa.mesa_logging"

#: What reading does not load a lazy module: the metadata the import system and :mod:`inspect` read.
_METADATA = frozenset({"__class__", "__file__", "__loader__", "__name__", "__package__", "__spec__"})


class _LazyModule(types.ModuleType):
    """A module whose code runs at the first use of anything but its metadata."""

    def __getattribute__(self, attr):
        if attr in _METADATA:
            return object.__getattribute__(self, attr)
        spec = object.__getattribute__(self, "__spec__")
        state = spec.loader_state
        with state["lock"]:  # another thread waits until the code has run
            if type(self) is _LazyModule and not state["loading"]:  # (the loading thread passes)
                state["loading"] = True
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    state["loading"] = False
                    if sys.modules.get(spec.name) is self:
                        del sys.modules[spec.name]
                    raise
                object.__setattr__(self, "__class__", types.ModuleType)
        return types.ModuleType.__getattribute__(self, attr)


class _Wrapper:
    """A loader around a module's own loader, which the module gets back as its ``__loader__``."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self.loader


class _LazyLoader(_Wrapper):
    """``exec_module`` makes the module lazy; its code runs later."""

    def exec_module(self, module):
        super().exec_module(module)
        module.__spec__.loader_state = {"lock": threading.RLock(), "loading": False}
        module.__class__ = _LazyModule


class _FrameNames:
    """What ``mesa.mesa_logging`` asks of :mod:`inspect` (the calling module, the calling
    function's name), answered from the frames without reading source files or scanning every
    loaded module. A tuple per frame: (frame, file, line, function, None, None), the order of
    :class:`inspect.FrameInfo`. Anything else is :mod:`inspect`'s own."""

    @staticmethod
    def currentframe():
        return sys._getframe(1)

    @staticmethod
    def getouterframes(frame, context=1):  # noqa: ARG004 (inspect's signature; no source read)
        out = []
        while frame is not None:
            code = frame.f_code
            out.append((frame, code.co_filename, frame.f_lineno, code.co_name, None, None))
            frame = frame.f_back
        return out

    @classmethod
    def stack(cls, context=1):
        return cls.getouterframes(sys._getframe(1), context)

    @staticmethod
    def getmodule(obj, _filename=None):
        if isinstance(obj, types.FrameType):
            return sys.modules.get(obj.f_globals.get("__name__"))
        return inspect.getmodule(obj, _filename)

    def __getattr__(self, name):
        return getattr(inspect, name)


class _LoggingLoader(_Wrapper):
    """Runs ``mesa.mesa_logging`` as usual, then gives it :class:`_FrameNames` for ``inspect``."""

    def exec_module(self, module):
        super().exec_module(module)
        self.loader.exec_module(module)
        if getattr(module, "inspect", None) is inspect:
            module.inspect = _FrameNames()


class _Finder:
    """A meta-path finder for :data:`LAZY` (made lazy) and ``mesa.mesa_logging``; it finds the
    module as the ordinary path finder does and wraps its loader."""

    @staticmethod
    def find_spec(name, path, target=None):  # noqa: ARG004 (the finder protocol's signature)
        if name not in LAZY and name != _LOGGING:
            return None
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or not hasattr(spec.loader, "exec_module"):
                return None  # the other finders import it as usual
            spec.loader = (_LoggingLoader if name == _LOGGING else _LazyLoader)(spec.loader)
        except Exception:  # noqa: BLE001 (any trouble: an ordinary import instead)
            return None
        return spec


def _import_mesa():
    if "mesa" in sys.modules:  # imported before sim: nothing to defer any more
        import mesa

        return mesa
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        import mesa
    finally:
        sys.meta_path.remove(finder)
        logging = sys.modules.get(_LOGGING)
        if isinstance(getattr(logging, "inspect", None), _FrameNames):
            logging.inspect = inspect
    return mesa


mesa = _import_mesa()

from mesa.time import Priority, Schedule  # noqa: E402 (after mesa's import above)

__all__ = ["LAZY", "Priority", "Schedule", "mesa"]
