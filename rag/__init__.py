"""Nabaa: offline, bilingual (Arabic/English) question answering over news articles."""

import os

# Models are local files; never reach for a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# After the variables above, before torch or OpenVINO loads.
from rag.models import cpu_profile

cpu_profile.apply()

__version__ = "0.1.0"
