"""Fault-injection campaigns: many independent, deterministic scenario runs, one Parquet row
per fault, resumable, on local processes or a Dask cluster, summarised with DuckDB.

``load_campaign("default")`` gives a :class:`Campaign`; :func:`run_campaign` runs or resumes
it into a directory; :func:`summarize` reads the directory back.
"""

from .execute import Progress, run_campaign, run_chunk
from .spec import Campaign, FaultDist, Setting, builtin_campaigns, load_campaign, parse_campaign
from .stop import Stop
from .store import Store, StoreError
from .summary import summarize, wilson

__all__ = [
    "Campaign", "FaultDist", "Progress", "Setting", "Stop", "Store", "StoreError", "builtin_campaigns",
    "load_campaign", "parse_campaign", "run_campaign", "run_chunk", "summarize", "wilson",
]
