"""What every route works with, made when the server starts (the app's lifespan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from wfe.serve.catalog import Catalog
from wfe.serve.config import ServeConfig
from wfe.serve.reader import StoreReader
from wfe.serve.runs import RunManager
from wfe.store import Store


@dataclass(frozen=True)
class Services:
    config: ServeConfig
    catalog: Catalog
    store: Store
    reader: StoreReader
    manager: RunManager


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
