"""``sim turn --say``: speech synthesized with espeak-ng, as the robot's Ogg/Opus pages.

The synthesis and Opus encoding live in the speech package (:mod:`jibo_cloud.speech.synth`);
this module only turns its pages into ``(page, seconds)`` for paced streaming, and says
clearly what is missing when the speech stack or espeak-ng is not installed.
"""

from __future__ import annotations

import subprocess

from jibo_cloud.tools.audio import split_pages
from jibo_cloud.tools.target import ToolError


def synthesize_pages(text: str) -> list[tuple[bytes, float]]:
    """``text`` spoken by espeak-ng, as Ogg/Opus pages with their durations.

    Raises:
        ToolError: espeak-ng or the speech stack is missing, or synthesis failed.
    """
    if not text.strip():
        raise ToolError("--say needs some text to speak")
    try:
        from jibo_cloud.speech.synth import espeak_available, spoken_pages
    except ImportError as exc:
        raise ToolError(f"--say needs the speech stack (jibo_cloud.speech): {exc}") from None
    if not espeak_available():
        raise ToolError("--say needs espeak-ng (Debian: apt-get install espeak-ng)")
    try:
        pages = spoken_pages(text)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"espeak-ng failed: {exc}") from None
    return split_pages(b"".join(pages))
