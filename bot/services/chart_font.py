"""A font with Chinese glyphs for the charts, so their labels are in the group's language.

Matplotlib brings only DejaVu, which has no CJK glyphs: Chinese labels would render as
empty boxes. The font comes with the ``mplfonts`` dependency (Noto Sans CJK SC, SIL Open
Font License); where that is missing, a CJK font installed on the machine that matplotlib
finds; with neither, callers fall back to English labels.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

#: The font shipped with the ``mplfonts`` package.
BUNDLED = "NotoSansCJKsc-Regular.otf"
#: Families of CJK fonts that systems commonly have, in order of preference.
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)


def bundled_font() -> Path | None:
    """The path of the font ``mplfonts`` ships, without importing the package."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / BUNDLED
    return path if path.is_file() else None


@functools.cache
def cjk_family() -> str | None:
    """The family name of a CJK font registered with matplotlib, or None when there is none."""
    from matplotlib import font_manager

    if (path := bundled_font()) is not None:
        font_manager.fontManager.addfont(str(path))
        return str(font_manager.FontProperties(fname=str(path)).get_name())
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in SYSTEM_FAMILIES if family in installed), None)
