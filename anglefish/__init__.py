"""anglefish: derive, simulate and verify how deep random ReLU networks shrink angles."""
__version__ = "0.1.0"

from .errors import AnglefishError
from .theory import (
                     Act,
                     Architecture,
                     BatchNorm,
                     Dense,
                     ReLU,
                     Residual,
                     Serial,
                     derive_maps,
                     get_architecture,
                     register_architecture,
)

__all__ = ["Act", "AnglefishError", "Architecture", "BatchNorm", "Dense", "ReLU", "Residual", "Serial", "__version__",
           "derive_maps", "get_architecture", "register_architecture"]
