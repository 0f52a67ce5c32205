"""Self-contained HTML pages: images inlined as base64 PNG, curves as inline SVG, one CSS block, no script.

A page is one file that opens anywhere (mail, CI artefacts) and fetches nothing.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from pipeline.store.atomic import write_bytes

CSS = (
    "\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}\n"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}\n"
    "table{border-collapse:collapse}"
    "td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\n"
    ".grid{display:flex;flex-wrap:wrap;gap:6px}.grid figure{margin:0;font-size:12px;text-align:center}\n"
    "figure img{display:block;image-rendering:pixelated}img{max-width:100%;height:auto}"
    ".fake{color:#b00020;font-weight:bold}.real{color:#006400;\n"
    "font-weight:bold}.flag{outline:3px solid #e69f00}.bad{color:#b00020}.note{color:#666}\n"
)


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def png_uri(image: np.ndarray) -> str:
    """data: URI of an RGB (H, W, 3) or grey (H, W) uint8 image, PNG-encoded (lossless)."""
    import cv2

    img = np.ascontiguousarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def img(image: np.ndarray, alt: str, width: int | None = None, cls: str = "") -> str:
    """An <img> of the array, optionally shown `width` CSS px wide."""
    size = f' width="{width}"' if width else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<img src="{png_uri(image)}" alt="{esc(alt)}"{size}{klass}>'


def figure(image_html: str, caption: str) -> str:
    return f"<figure>{image_html}<figcaption>{caption}</figcaption></figure>"


def heat(values: np.ndarray, low: float = 0.0, high: float = 1.0, cmap: str = "viridis") -> np.ndarray:
    """(H, W) values mapped through a matplotlib colour map over [low, high] -> (H, W, 3) uint8."""
    import matplotlib

    x = np.clip((np.asarray(values, np.float32) - low) / max(high - low, 1e-12), 0.0, 1.0)
    return (matplotlib.colormaps[cmap](x)[..., :3] * 255).round().astype(np.uint8)


def enlarge(image: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour resize of a small map to side x side pixels (each cell stays a visible block)."""
    import cv2

    return cv2.resize(np.ascontiguousarray(image), (side, side), interpolation=cv2.INTER_NEAREST)


def overlay(rgb: np.ndarray, weight: np.ndarray, colour=(255, 0, 64), strength: float = 0.6) -> np.ndarray:
    """RGB (H, W, 3) uint8 tinted towards `colour` by weight (H, W) in [0, 1] times strength."""
    w = np.clip(np.asarray(weight, np.float32), 0.0, 1.0)[..., None] * strength
    return (rgb.astype(np.float32) * (1 - w) + np.array(colour, np.float32) * w).round().astype(np.uint8)


def curve_svg(values, flagged=(), width: int = 640, height: int = 160, threshold: float | None = 0.5) -> str:
    """Inline SVG line of values in [0, 1] (one point per item), flagged points drawn hollow."""
    n = len(values)
    pad = 24
    xs = [pad + (width - 2 * pad) * (i / max(n - 1, 1)) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * float(v) for v in values]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{"white" if i in flagged else "#1f4e9c"}" '
        f'stroke="#1f4e9c"/>'
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    )
    rule = ""
    if threshold is not None:
        ty = height - pad - (height - 2 * pad) * threshold
        rule = (
            f'<line x1="{pad}" x2="{width - pad}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#b00020" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{width - pad + 2}" y="{ty + 4:.1f}" font-size="10">{threshold}</text>'
        )
    axes = (
        f'<line x1="{pad}" x2="{pad}" y1="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="2" y="{pad + 4}" font-size="10">1</text>'
        f'<text x="2" y="{height - pad + 4}" font-size="10">0</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">{axes}{rule}'
        f'<polyline points="{points}" fill="none" stroke="#1f4e9c" stroke-width="1.5"/>{dots}</svg>'
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells are inserted as given (escape text with `esc` first)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f'<link rel="icon" href="data:,"><style>{CSS}</style></head>'
        f"<body><h1>{esc(title)}</h1>{body}</body></html>"
    )


def write_page(path: Path, title: str, body: str) -> Path:
    """Write one page atomically; returns its path."""
    write_bytes(Path(path), page(title, body).encode("utf-8"))
    return Path(path)
