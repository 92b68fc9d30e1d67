"""Build plansentry, compiling its hottest modules with mypyc when it can (everything else is in
pyproject.toml).

The modules listed in ``src/plansentry/_native.py: MODULES`` (the pure core, the warehouse's rules
and router) are compiled to C extensions, as black and mypy ship theirs; a wheel and an editable
install (``pip install -e .``, what scripts/test.sh and scripts/demo.sh run) alike. The pure-Python
build is installed instead, with one line saying why, when:

- ``PLANSENTRY_PURE=1`` is set at install time (it also removes extensions an earlier editable
  build left in the source tree);
- mypyc cannot be imported;
- the C compiler is missing or fails: the install goes on without the extensions.

The build writes ``src/plansentry/_native.json`` (the sha256 of every compiled source), which
``plansentry._native`` compares with the sources at import: a source edited since its build is
imported from source, with a warning, until the next install.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "src" / "plansentry"
MANIFEST = PACKAGE / "_native.json"


def say(message: str) -> None:
    print(f"plansentry build: {message}", file=sys.stderr)


def compiled_modules() -> tuple[str, ...]:
    """``MODULES`` from src/plansentry/_native.py, read without importing the package."""
    tree = ast.parse((PACKAGE / "_native.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MODULES":
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("src/plansentry/_native.py has no MODULES")


def source(module: str) -> Path:
    return PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")


def remove_in_place_builds(modules: tuple[str, ...]) -> None:
    """Extensions an earlier editable build left beside the sources, and its manifest."""
    for module in modules:
        for built in source(module).parent.glob(source(module).stem + ".*.so"):
            built.unlink()
    for lib in (ROOT / "src").glob("*__mypyc.*.so"):
        lib.unlink()
    MANIFEST.unlink(missing_ok=True)


class OptionalBuildExt(build_ext):
    """build_ext that compiles with mypyc, and installs the pure-Python build when it cannot.

    mypyc runs here, when the extensions are built, not when setup.py is read: pip reads it
    more than once (metadata, then the build)."""

    def run(self) -> None:
        if self.extensions == PLACEHOLDER:
            self._use(mypyc_extensions())
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as exc:  # the compiler's errors come in several types
            self._give_up(exc)
            return
        if self.extensions:
            # Beside the extensions: in the source tree for an editable install, in the wheel's
            # tree otherwise (never in both: a wheel's build leaves the source tree alone).
            target = (
                MANIFEST if self.inplace else Path(self.build_lib) / "plansentry" / MANIFEST.name
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(
                    {
                        "mypy": _mypy_version(),
                        "sources": {
                            m: hashlib.sha256(source(m).read_bytes()).hexdigest()
                            for m in compiled_modules()
                        },
                    },
                    indent=1,
                    sort_keys=True,
                )
                + "\n",
                encoding="utf-8",
            )
            say(f"compiled {len(compiled_modules())} modules with mypyc")

    def _use(self, extensions: list[Extension]) -> None:
        """Put mypyc's extensions where finalize_options put the placeholder (as it does)."""
        self.extensions = self.distribution.ext_modules = extensions
        self.check_extensions_list(extensions)
        for ext in extensions:
            ext._full_name = self.get_ext_fullname(ext.name)
            self.ext_map[ext._full_name] = ext
            self.ext_map[ext._full_name.split(".")[-1]] = ext
            ext._links_to_dynamic = False
            ext._needs_stub = False
            ext._file_name = self.get_ext_filename(ext._full_name)

    def _give_up(self, exc: Exception) -> None:
        """Leave no extension behind (one without the others would not import), and say why."""
        for ext in self.extensions:
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
        self.extensions = []
        if self.inplace:  # an editable install: what an earlier build left would still import
            remove_in_place_builds(compiled_modules())
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        say(f"could not compile ({first}); installing the pure-Python build")


def _mypy_version() -> str:
    try:
        from mypy.version import __version__
    except ImportError:  # pragma: no cover - mypyc came without mypy
        return "unknown"
    return __version__


def pure_requested() -> bool:
    return os.environ.get("PLANSENTRY_PURE", "") not in ("", "0")


#: What mypyc type-checks as it compiles: the compiled modules and what they import, nothing else
#: (following the whole package would type-check every optional dependency too: a minute, 2 GB).
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
follow_imports = silent
check_untyped_defs = True

[mypy-plansentry.core.*]
strict = True

[mypy-plansentry.runtime.*,plansentry.planners.*,plansentry.telemetry.*,plansentry.report.*,\
plansentry.testing.*,plansentry.serve.*,plansentry.cli.*,plansentry.sim.*,\
plansentry.domains.warehouse.world.*,plansentry.domains.warehouse.identity,\
plansentry.domains.warehouse.commands.*,plansentry.domains.warehouse.classical,\
plansentry.domains.warehouse.kit,plansentry.domains.warehouse.plugin,\
plansentry.domains.warehouse.demo,plansentry.domains.warehouse.prompts,\
plansentry.domains.warehouse.examples,plansentry.domains.warehouse.safety,\
plansentry.domains.warehouse.injection]
follow_imports = skip
"""


def mypyc_extensions() -> list[Extension]:
    modules = compiled_modules()
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        say(f"mypyc is not available ({exc}); installing the pure-Python build")
        return []
    paths = [str(source(m).relative_to(ROOT)) for m in modules]
    config = ROOT / "build" / "mypyc.ini"
    config.parent.mkdir(exist_ok=True)
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    try:
        return list(
            mypycify(
                [f"--config-file={config}", *paths],
                opt_level="3",
                debug_level="0",
                group_name="plansentry",
            )
        )
    except BaseException as exc:  # mypyc reports type errors by exiting
        if isinstance(exc, KeyboardInterrupt):
            raise
        say(f"mypyc could not compile ({type(exc).__name__}: {exc}); installing pure Python")
        return []


# A placeholder, so that setuptools runs build_ext (and tags the wheel for this platform);
# OptionalBuildExt replaces it with what mypyc generates.
PLACEHOLDER = [Extension("plansentry__mypyc", sources=[])]
if pure_requested():
    remove_in_place_builds(compiled_modules())
    say("PLANSENTRY_PURE is set; installing the pure-Python build")
setup(
    ext_modules=[] if pure_requested() else PLACEHOLDER,
    cmdclass={"build_ext": OptionalBuildExt},
)
