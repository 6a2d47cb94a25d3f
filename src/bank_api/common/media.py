"""Content negotiation for the few routes that answer in more than JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi.responses import Response

CSV = "text/csv"


def _quality(accept: str, media_type: str) -> float:
    """The q value `accept` gives `media_type` (its most specific matching range)."""
    kind = media_type.split("/")[0]
    best, specificity = 0.0, -1
    for item in accept.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        rank = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name.lower())
        if rank is None or rank < specificity:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        best, specificity = q, rank
    return best


def prefers_csv(accept: str | None) -> bool:
    """The client asked for CSV rather than JSON (JSON wins a tie and an absent header)."""
    if not accept:
        return False
    return _quality(accept, CSV) > _quality(accept, "application/json")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> Response:
    """The rows as a CSV attachment (UTF-8, CRLF line ends, a header row)."""
    return Response(
        csv_text(header, rows),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
