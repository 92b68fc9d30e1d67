"""``plansentry serve``: the guard as a local service, for robot stacks in any language.

One process serves one domain kit against one upstream (the embedded model or an
OpenAI-compatible server), with one guard state, over HTTP on loopback by default:

- :mod:`~plansentry.serve.config`: :class:`ServeConfig`, checked at construction;
- :mod:`~plansentry.serve.service`: :class:`Service`, the kit, planner, guard, runtime, audit log
  and tickets, and deadlines that arrive as budgets;
- :mod:`~plansentry.serve.tickets`: asked-ahead decision points under unguessable ids;
- :mod:`~plansentry.serve.schemas`: the native API's bodies and their JSON Schema;
- :mod:`~plansentry.serve.openai_api`: ``/v1/chat/completions`` answered with the decided plan;
- :mod:`~plansentry.serve.app`: the ASGI application (Starlette) and its token gate;
- :mod:`~plansentry.serve.upstream`: the planner an upstream names;
- :mod:`~plansentry.serve.command`: the command, on uvicorn, with a SIGTERM drain.

docs/SERVE.md is the user's guide. Importing this package is cheap and needs no server library:
the service is ``plansentry.serve.service.Service``, the application
``plansentry.serve.app.build_app`` (Starlette, the ``serve`` extra).
"""

from plansentry.serve.config import ServeConfig
from plansentry.serve.errors import RequestError

__all__ = ["RequestError", "ServeConfig"]
