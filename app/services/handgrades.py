"""A TA's hand grade in points: what a grade typed as points out of a part's worth is stored as.

A grade is stored as a share of the part (0..1), as the API has always taken it; TAs grade by a
rubric in points ("4 分…3 分…3 分，共 10 分"), and a share asked them to divide (7 was refused)."""

from __future__ import annotations

from app.services.errors import Invalid, Said, say


class PointsOutOfRange(Invalid):
    """Points given for a hand-graded part beyond what it is worth, or below 0 (422)."""

    def __init__(self, points: float, worth: float, what: Said) -> None:
        said = say(POINTS_OUT_OF_RANGE, points=f"{points:g}", worth=f"{worth:g}", what=what)
        super().__init__(said["en"], field="points", said=[said])
        self.worth = worth


POINTS_OUT_OF_RANGE: Said = {
    "zh": "points：{what}满分 {worth} 分，得分应在 0 到 {worth} 之间，而不是 {points}（按比例给分请用 score，0 到 1）",
    "en": "points: {points} is not within 0 to {worth}, the points {what} is worth (a share of it goes "
    "in score, 0 to 1)",
}


def share_of(points: float, worth: float) -> float | None:
    """Points out of `worth` as the share of a part a grade is stored as; None outside 0..worth.
    A hair over (3.3333 typed for 10/3) is the whole."""
    if not (worth > 0 and -1e-9 <= points <= worth * (1 + 1e-9) + 1e-9):
        return None
    return min(1.0, max(0.0, points / worth))
