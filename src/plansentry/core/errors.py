"""The exceptions plansentry raises, under one root.

::

    PlansentryError               anything plansentry raises on purpose
    ├── ConfigError               a setting that cannot work (also a ValueError); names the setting
    │   └── (a domain's own: a map, a fault profile, a simulation setting)
    ├── InputError                input that cannot be used: a record, an order, a document, a log
    │   ├── ReplayError           an audit log that cannot be replayed, and why
    │   └── (a domain's own: an order that does not fit its map)
    ├── KitError                  no installed domain kit by that name, or a kit that cannot serve
    └── PlannerError              a planner that cannot run (no model file, no server)

A command-line error a user can cause is one of these: ``plansentry`` prints its message on one line
and exits with code 2. Everything else is a bug and keeps its traceback.

What the guard never raises: a decision. Whatever a model or a fallback does, a decision is taken;
these exceptions come from configuration, input and set-up, before or beside decisions.
"""

from __future__ import annotations


class PlansentryError(Exception):
    """The root of every exception plansentry raises on purpose."""


class ConfigError(PlansentryError, ValueError):
    """A configuration value that cannot work; the message names the setting."""


class InputError(PlansentryError, ValueError):
    """Input that cannot be used (a record, an order, a document); the message names the field."""


class ReplayError(InputError):
    """An audit log that cannot be replayed (no header, unknown format, rules no kit has)."""


class KitError(PlansentryError):
    """No installed domain kit by that name, or a kit that cannot rebuild what a log asks for."""


class PlannerError(PlansentryError):
    """A planner that cannot run: no model file, no server address, a missing optional package."""
