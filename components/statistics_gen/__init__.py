"""StatisticsGen: TFX's component, small example sets computed in memory."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {"StatisticsGen": "component"})
