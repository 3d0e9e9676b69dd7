"""The HTTP API and MCP as a Ray Serve application of several replicas:
``python -m rag serve-app``.

Each replica is a whole app process of its own, as ``python -m rag serve`` runs one: a
``Service`` (its Pipeline, its turns) and the same routes, ``/v1``, ``/healthz`` and
``/mcp``, behind Serve's HTTP proxy, which spreads the requests over the replicas.
Replicas retrieve from the served shards (``rag.store.served``) and generate through
NABAA_LLM_URL when it is set (else each loads the GGUF itself). Starting, health checks,
restarts and the number of replicas are Serve's.

The web UI is not among the routes: Gradio keeps each browser's session in the process
that opened it, and Serve's proxy does not send a browser back to the same replica. It
runs as ``python -m rag serve`` with NABAA_CLUSTER, reading the same shards.
"""

from __future__ import annotations

from typing import Any

from ray import serve

from rag.apps import mcp_server
from rag.apps.api import create_api
from rag.apps.service import Service
from rag.config import Settings
from rag.errors import NabaaError
from rag.store.served import HEALTH_CHECK_S, scaling, served_shards

APP_NAME = "nabaa-app"


@serve.deployment(health_check_period_s=HEALTH_CHECK_S, max_ongoing_requests=32)
@serve.ingress()
class AppReplica:
    """One replica: a Service whose models are loaded before it takes requests."""

    def __init__(self, settings: Settings) -> None:
        self.service = Service(settings)
        self.service.wait_ready()  # a replica that cannot load its models fails to start

    def __serve_build_asgi_app__(self) -> Any:
        return mcp_server.mount(create_api(self.service), self.service)

    def check_health(self) -> None:
        """Serve's health check: the warm-up ended without an error."""
        if self.service.error:
            raise NabaaError(self.service.error)


def deploy_app(
    settings: Settings,
    replicas: int,
    replica_cpus: float = 1.0,
    max_replicas: int | None = None,
) -> str:
    """Serve the API and MCP in ``replicas`` replicas (autoscaled up to ``max_replicas``,
    aiming at one answer slot's worth of requests each) at the proxy's ``/`` on the
    connected cluster, reading its served shards; returns once every replica is ready."""
    if not served_shards():
        raise NabaaError("No shards are served: run `python -m rag serve-shards` first.")
    replica_settings = settings.model_copy(update={"cluster": settings.cluster or "auto"})
    deployment = AppReplica.options(
        ray_actor_options={"num_cpus": replica_cpus},
        **scaling(replicas, max_replicas, target=settings.answer_slots),
    )
    serve.run(deployment.bind(replica_settings), name=APP_NAME, route_prefix="/")
    return APP_NAME
