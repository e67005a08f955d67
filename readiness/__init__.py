"""readiness: how ready a contact center is to add selling to service.

Layers (imports only point down): core (:mod:`instrument`, :mod:`responses`,
:mod:`scoring`, :mod:`results`), edges (:mod:`loaders`, :mod:`exporters`), views
(:mod:`console`) and drivers (:mod:`cli`).
"""

from .errors import InputError, Problem, ReadinessError
from .instrument import DIMENSIONS, Instrument
from .responses import Responses
from .scoring import Scores, score

__all__ = ["DIMENSIONS", "InputError", "Instrument", "Problem", "ReadinessError", "Responses", "Scores", "score"]
__version__ = "0.1.0"
